"""The window's one door from exceptions to words: engine.errors.user_message plus a next step."""

from __future__ import annotations

from engine.download.errors import HubUnreachableError
from engine.errors import (
    ConnectionNotFoundError,
    EngineFailureError,
    InsecureEndpointError,
    InvalidModelFolderError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RemoteModelNotServedError,
    RemoteUnreachableError,
    user_message,
)

#: What the user can do next, where the engine's own message does not say.
_NEXT_STEPS: tuple[tuple[type[BaseException], str], ...] = (
    (ModelNotFoundError, "Pick another model in Settings (Ctrl+,)."),
    (InvalidModelFolderError, "Download the model again, or pick another one in Settings (Ctrl+,)."),
    (ProviderUnavailableError, "Choose 'auto' or 'cpu' as the provider in Settings (Ctrl+,)."),
    (EngineFailureError, "Try again; if it keeps failing, restart Ponder."),
    # Remote servers (engine/remote/): the engine's text names the server; this says where to fix it.
    (RemoteUnreachableError, "Or pick a local model in Settings (Ctrl+,)."),
    (RemoteModelNotServedError, "Change it in Settings › Models › Connections."),
    (InsecureEndpointError, "Change the address in Settings › Models › Connections."),
    (ConnectionNotFoundError, "Add it again in Settings › Models › Connections."),
)


#: How a failed name lookup reads in the network libraries' errors: the computer is offline.
_OFFLINE_SIGNS = ("name or service not known", "temporary failure in name resolution", "getaddrinfo failed",
                  "nodename nor servname", "no address associated", "network is unreachable")


def _download_text(error: HubUnreachableError) -> str:
    """Plain words for a download that could not reach the server, never the socket error."""
    detail = str(error).lower()
    if any(sign in detail for sign in _OFFLINE_SIGNS):
        what = "This computer seems to be offline, so the model server cannot be reached."
    else:
        what = "The model server cannot be reached right now (it may be down, or blocked on this network)."
    return f"{what} What was downloaded so far is kept: press Retry to go on from there."


def user_text(error: BaseException) -> str:
    """One short paragraph for a person: what happened and what to do."""
    if isinstance(error, HubUnreachableError):
        return _download_text(error)
    text = user_message(error).strip()
    for kind, step in _NEXT_STEPS:
        if isinstance(error, kind):
            return f"{text} {step}"
    return text
