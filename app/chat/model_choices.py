"""What the model picker lists and says: each model Ponder can run, where it runs, and the
engine host's typed state (engine/host/states.py) for it, in a few words. No widgets here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.errors import user_text
from engine.host import Checking, HostState, LoadFailed, Loading, Ready, Switching
from engine.host.kinds import connection_of, remote_spec
from engine.models import DEMO

if TYPE_CHECKING:
    from engine.remote.connections import Connection

LOCAL = "on this computer"


@dataclass(frozen=True)
class PickerEntry:
    """One model the user can choose: the spec the host loads, its name and where it runs."""

    spec: str
    name: str
    where: str  # 'on this computer', 'remote: gpu-box (host:port)'
    short_where: str = ""  # for the button: 'remote: gpu-box' ('' : where)

    @property
    def remote(self) -> bool:
        return connection_of(self.spec) is not None


def model_entries(installed: Iterable[str], connections: Iterable[Connection]) -> list[PickerEntry]:
    """The demo, then the installed models by name, then each saved connection's model."""
    from engine.remote.endpoint import Endpoint

    entries = [PickerEntry(DEMO, display_name(DEMO), LOCAL)]
    entries += [PickerEntry(name, name, LOCAL) for name in installed]
    for connection in connections:
        label = Endpoint(connection.base_url, connection.model, connection.name).label
        entries.append(PickerEntry(remote_spec(connection.name), connection.model, f"remote: {label}",
                                   f"remote: {connection.name}"))
    return entries


def display_name(spec: str) -> str:
    """How a spec reads in the window."""
    if spec == DEMO:
        return "Demo model"
    name = connection_of(spec)
    return name if name is not None else spec


def ready_text(result: object) -> str:
    """'ready on CPU' for a local model, 'ready on vllm' for a remote one."""
    provider = getattr(result, "provider", None)
    if provider is not None:  # engine.service.LoadResult
        return f"ready on {provider.label}"
    capabilities = getattr(result, "capabilities", None)  # engine.remote.service.RemoteLoadResult
    return f"ready on {capabilities.server.value}" if capabilities is not None else "ready"


def state_text(spec: str, state: HostState, ready: Ready | None, *, reason_chars: int | None = None) -> str:
    """What the host is doing with `spec`, in a few words (a failure's reason cut to reason_chars)."""
    wanted = getattr(state, "wanted", None)
    if wanted is not None and wanted.spec == spec:
        if isinstance(state, Switching):
            what = "the summary" if "summary" in state.waiting_for else "the running answer"
            return f"switching after {what}"
        if isinstance(state, Checking):
            return "checking every file…" if state.full else "checking…"
        if isinstance(state, Loading):
            return "connecting…" if connection_of(spec) is not None else "loading…"
        if isinstance(state, LoadFailed):
            reason = user_text(state.error)
            if reason_chars == 0:
                return "failed (see the banner)"
            if reason_chars is not None and len(reason) > reason_chars:
                reason = reason[:reason_chars - 1].rstrip() + "…"
            return f"failed: {reason}"
    # The model loaded now stays ready while a switch waits for running work; once the new one
    # loads, the old one is gone (the backend unloads it first).
    if ready is not None and ready.wanted.spec == spec and isinstance(state, (Ready, Switching)):
        return ready_text(ready.result)
    return "not loaded"
