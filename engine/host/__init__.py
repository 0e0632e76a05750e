"""The engine host: the one owner of which model is loaded and of the work that runs on it."""

from engine.host.backend import EngineBackend
from engine.host.host import Hold, ModelHost
from engine.host.states import (
    Checking,
    Closed,
    HostState,
    Idle,
    LoadFailed,
    Loading,
    LoadSupersededError,
    ModelWanted,
    Ready,
    StateListener,
    Switching,
)

__all__ = [
    "Checking", "Closed", "EngineBackend", "Hold", "HostState", "Idle", "LoadFailed", "LoadSupersededError",
    "Loading", "ModelHost", "ModelWanted", "Ready", "StateListener", "Switching",
]
