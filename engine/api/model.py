"""What the server serves: the loaded model's name, limits and default sampling, or why there is none."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.request import Sampling


@dataclass(frozen=True)
class ServedModel:
    """The model behind the API, as /v1/models describes it."""

    id: str
    context_length: int
    sampling: Sampling = field(default_factory=Sampling)
    #: The catalog's cap on one turn's new tokens (None: the engine's default).
    max_new_tokens: int | None = None
    reasoning: bool = True
    #: Where it runs (the provider key, e.g. "cpu"), as the history records it.
    provider: str = ""


@dataclass(frozen=True)
class ModelStatus:
    """The model now: `model` when ready; else loading (error None) or unavailable (error set)."""

    model: ServedModel | None = None
    error: str | None = None

    @property
    def loading(self) -> bool:
        return self.model is None and self.error is None


class HostStatus:
    """The ModelStatus of an engine host (engine/host/ModelHost), as the server asks for it.

    While the host checks, loads or waits to switch models the API answers 503 (a switch waits
    for the requests already running, and new ones must not keep it waiting for ever).
    """

    def __init__(self, host) -> None:
        self.host = host
        self._described: tuple[object, ServedModel] | None = None

    def __call__(self) -> ModelStatus:
        from engine.host import Closed, LoadFailed, Ready

        state = self.host.state
        if isinstance(state, Ready):
            if getattr(state.result, "folder", None) is None:  # a RemoteLoadResult (engine/remote)
                return ModelStatus(error="the model in use is a remote one; the local API serves only a model "
                                         "on this computer")
            if self._described is None or self._described[0] is not state:
                self._described = (state, served_model(state.result, state.setup))
            return ModelStatus(self._described[1])
        if isinstance(state, LoadFailed):
            return ModelStatus(error=state.error.user_message())
        if isinstance(state, Closed):
            return ModelStatus(error="the engine is shutting down")
        return ModelStatus()  # Idle, Checking, Loading, Switching: loading


def served_model(result, setup) -> ServedModel:
    """The ServedModel for a LoadResult (engine/service.py) and its ModelSetup (engine/catalog)."""
    from dataclasses import replace

    from engine.paths import demo_model_dir

    folder = result.folder
    demo = folder.path == demo_model_dir().resolve()
    search = folder.config.get("search", {})
    context = int(min(search.get("max_length") or folder.context_length, folder.context_length))
    # The demo model is reliable only with greedy decoding (as in the window).
    sampling = replace(setup.sampling, greedy=True) if demo else setup.sampling
    provider = getattr(getattr(result, "provider", None), "key", "")
    return ServedModel("demo" if demo else folder.name, context, sampling, setup.max_new_tokens,
                       provider=provider)


def installed_entries(paths) -> list[dict]:
    """Installed models for GET /v1/models: name and context length (from genai_config.json)."""
    import json

    from engine.models import installed_models

    entries = []
    for folder in installed_models(paths):
        try:
            config = json.loads((folder / "genai_config.json").read_text(encoding="utf-8"))
            context = int(config["model"].get("context_length") or 0) or None
        except (OSError, ValueError, KeyError, TypeError):
            context = None
        entries.append({"id": folder.name, "context_length": context})
    return entries
