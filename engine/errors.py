"""Typed engine errors and the one place where they become text a user reads.

onnxruntime-genai raises plain RuntimeError for everything; the engine maps those messages to
these types so the GUI and the command line never sniff strings.
"""

from __future__ import annotations

from pathlib import Path


class PonderError(Exception):
    """Base of every error the engine reports to a user."""

    exit_code = 1

    def user_message(self) -> str:
        """One or two sentences for a person, no traceback."""
        return str(self)


class ModelNotFoundError(PonderError):
    """The model named by the user does not exist."""

    exit_code = 3

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def user_message(self) -> str:
        return (
            f"No model found at '{self.name}'. Use 'demo', or the path of a folder that holds "
            "genai_config.json."
        )


class InvalidModelFolderError(PonderError):
    """A model folder that must not be handed to onnxruntime-genai."""

    exit_code = 3

    def __init__(self, folder: Path, file: str, reason: str) -> None:
        super().__init__(f"{folder}: {file}: {reason}")
        self.folder, self.file, self.reason = folder, file, reason

    def user_message(self) -> str:
        return f"The model folder {self.folder} cannot be used: {self.file}: {self.reason}."


class ProviderUnavailableError(PonderError):
    """No execution provider could run the model (or the forced one failed)."""

    exit_code = 4

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider, self.reason = provider, reason

    def user_message(self) -> str:
        return f"The {self.provider} provider cannot run this model: {self.reason}"


class ContextTooLongError(PonderError):
    """The prompt does not fit the model's context even after dropping old turns."""

    exit_code = 5

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"{needed} tokens needed, {available} available")
        self.needed, self.available = needed, available

    def user_message(self) -> str:
        return (
            f"The message is too long for this model: it needs {self.needed} tokens and the "
            f"model can take {self.available}. Shorten it or attach it as a document."
        )


class MemoryBudgetError(PonderError):
    """The conversation's KV cache would not fit in the memory that is free."""

    exit_code = 5

    def __init__(self, needed: int, available: int, *, history: bool = False) -> None:
        super().__init__(f"{needed} bytes of KV cache needed, {available} free")
        self.needed, self.available, self.history = needed, available, history

    def user_message(self) -> str:
        need, free = self.needed / 2**30, max(0, self.available) / 2**30
        way_out = ("Start a new chat (the conversation is long) or choose a lower effort."
                   if self.history else "Choose a lower effort, or start a new chat.")
        return (f"Not enough free memory for this answer: it needs about {need:.1f} GB and "
                f"{free:.1f} GB are free. {way_out}")


class CancelledError(PonderError):
    """The user stopped the request. Never shown as an error."""

    exit_code = 130

    def user_message(self) -> str:
        return "Stopped."


class EngineFailureError(PonderError):
    """onnxruntime-genai failed in a way the engine did not expect."""

    exit_code = 6

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def user_message(self) -> str:
        return f"The inference engine failed: {self.detail.strip()}"


class BadRequestError(PonderError):
    """A request the engine refuses before running (bad option values)."""

    exit_code = 2

    def user_message(self) -> str:
        return str(self)


def user_message(error: BaseException) -> str:
    """Text for any exception: typed errors speak for themselves, others are summarised."""
    if isinstance(error, PonderError):
        return error.user_message()
    return f"Unexpected error: {type(error).__name__}: {error}"


# --- remote engines (engine/remote/) ---


class RemoteError(PonderError):
    """A configured remote endpoint (an OpenAI-compatible server) failed; `url` names it."""

    exit_code = 7

    def __init__(self, url: str, detail: str = "") -> None:
        super().__init__(f"{url}: {detail}" if detail else url)
        self.url, self.detail = url, detail


class RemoteUnreachableError(RemoteError):
    """Nothing answers at the endpoint's address (refused, unknown host, network down)."""

    def user_message(self) -> str:
        return (f"Cannot reach the server at {self.url} ({self.detail}). Check that it is running "
                "and that the address and port are right.")


class RemoteTlsError(RemoteError):
    """The server's TLS certificate could not be verified."""

    def user_message(self) -> str:
        return (f"The certificate of {self.url} could not be verified ({self.detail}). If the server "
                "uses its own certificate authority, give its CA file in the connection.")


class RemoteAuthError(RemoteError):
    """The server refused the API key (401/403)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status

    def user_message(self) -> str:
        return (f"The server at {self.url} refused the API key (HTTP {self.status}). Set the right "
                "key in the connection ('ponder connections add' again, or Settings › Connections).")


class RemoteModelNotServedError(RemoteError):
    """The server is up but does not serve the model the connection names."""

    exit_code = 3

    def __init__(self, url: str, model: str, served: tuple[str, ...]) -> None:
        super().__init__(url, f"model {model!r} not served")
        self.model, self.served = model, served

    def user_message(self) -> str:
        offer = ", ".join(self.served[:8]) or "none"
        return (f"The server at {self.url} does not serve the model '{self.model}'. It serves: "
                f"{offer}. Pick one of those in the connection.")


class RemoteRateLimitedError(RemoteError):
    """HTTP 429: the server asks us to slow down."""

    def __init__(self, url: str, retry_after_s: float | None) -> None:
        super().__init__(url, "HTTP 429")
        self.retry_after_s = retry_after_s

    def user_message(self) -> str:
        wait = (f"in {self.retry_after_s:g} s" if self.retry_after_s is not None else "in a moment")
        return f"The server at {self.url} is busy and limits requests (HTTP 429). Try again {wait}."


class RemoteTimeoutError(RemoteError):
    """The server stopped answering for longer than the connection's timeout."""

    def __init__(self, url: str, phase: str, seconds: float) -> None:
        super().__init__(url, f"no {phase} within {seconds:g} s")
        self.phase, self.seconds = phase, seconds

    def user_message(self) -> str:
        return (f"The server at {self.url} sent no {self.phase} for {self.seconds:g} s. It may be "
                "overloaded or stuck; try again, or check the server.")


class RemoteServerError(RemoteError):
    """The server answered with an error status or something that is not an OpenAI-style reply."""

    def __init__(self, url: str, status: int | None, detail: str) -> None:
        super().__init__(url, detail)
        self.status = status

    def user_message(self) -> str:
        code = f"HTTP {self.status}: " if self.status else ""
        return f"The server at {self.url} answered with an error ({code}{self.detail.strip()[:300]})."


class RemoteStreamCutError(RemoteError):
    """The stream ended mid-answer (server killed, network lost). What arrived is kept here and
    was already emitted; the window marks the turn as cut."""

    def __init__(self, url: str, detail: str, thinking: str = "", answer: str = "") -> None:
        super().__init__(url, detail)
        self.thinking, self.answer = thinking, answer

    def user_message(self) -> str:
        kept = "; what arrived is kept above" if (self.thinking or self.answer) else ""
        return (f"The connection to {self.url} was cut mid-answer ({self.detail}){kept}. "
                "Ask again to get a full answer.")


class InsecureEndpointError(PonderError):
    """An endpoint address that Ponder refuses to send prompts to as given."""

    exit_code = 2

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason

    def user_message(self) -> str:
        return f"Ponder will not use {self.url}: {self.reason}"


class ConnectionNotFoundError(PonderError):
    """No saved connection has this name."""

    exit_code = 3

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def user_message(self) -> str:
        return f"No connection named '{self.name}'. 'ponder connections list' shows the saved ones."


class SecretStoreError(PonderError):
    """An API key cannot be kept: no secure OS keyring (never a plaintext fallback)."""

    exit_code = 2

    def user_message(self) -> str:
        return (f"{self} Ponder keeps API keys only in the system keyring (Secret Service, KWallet, "
                "macOS Keychain, Windows Credential Manager); unlock or install one, or set the key "
                "in the PONDER_API_KEY environment variable for one run.")
