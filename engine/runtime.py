"""onnxruntime-genai objects for one loaded model. Used only from the inference thread.

onnxruntime_genai is imported lazily here so that importing the engine has no side effects
and prepare_environment() always runs first.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import EngineFailureError, InvalidModelFolderError, ProviderUnavailableError
from engine.model_folder import CONFIG_NAME, ModelFolder
from engine.providers import CANDIDATES, Candidate

if TYPE_CHECKING:
    from engine.og_native import NativeOg

log = logging.getLogger(__name__)


def import_og() -> Any:
    """The onnxruntime_genai module (imported on first use)."""
    return importlib.import_module("onnxruntime_genai")


@dataclass
class LoadedModel:
    """A model loaded on one provider, with its tokenizer and engine."""

    folder: ModelFolder
    candidate: Candidate
    model: Any
    tokenizer: Any
    engine: Any

    def close(self, native: NativeOg | None = None) -> bool:
        """Drop the og objects. True when the model was freed through the C API (without the
        GIL); else its last reference frees it, holding the GIL."""
        engine, tokenizer, model = self.engine, self.tokenizer, self.model
        self.engine = self.tokenizer = self.model = None
        del engine
        if native is None:
            return False
        native.free(tokenizer)
        del tokenizer
        return native.free(model)

    @property
    def max_length(self) -> int:
        """Largest session the config allows (search.max_length, capped by the context)."""
        search = self.folder.config.get("search", {})
        return int(min(search.get("max_length") or self.folder.context_length, self.folder.context_length))


def register_plugins(og: Any, registered: set[str]) -> None:
    """Register the plugin execution providers that are installed (once per process)."""
    for candidate in CANDIDATES:
        name = candidate.plugin_module
        if not name or name in registered:
            continue
        try:
            module = importlib.import_module(name)
            og.register_execution_provider_library(module.get_ep_name(), module.get_library_path())
        except ImportError:
            continue
        except (RuntimeError, AttributeError) as exc:
            if "already registered" not in str(exc):
                log.warning("could not register %s: %s", name, exc)
        registered.add(name)


def load_model(folder: ModelFolder, candidate: Candidate, *, threads: int | None = None,
               native: NativeOg | None = None) -> LoadedModel:
    """Load on one provider and generate one token to prove it works. With `native` the model is
    built through the C API, which lets other Python threads (the window) run meanwhile."""
    og = import_og()
    try:
        if native is not None:
            model = native.load_model(folder.path, candidate, threads)
            tokenizer = native.load_tokenizer(model)
        else:
            model = _create_model(og, folder, candidate, threads)
            tokenizer = og.Tokenizer(model)
        loaded = LoadedModel(folder, candidate, model, tokenizer, og.Engine(model))
        smoke_test(og, loaded)
        return loaded
    except RuntimeError as exc:
        raise map_load_error(folder, candidate, exc) from exc


def _create_model(og: Any, folder: ModelFolder, candidate: Candidate, threads: int | None) -> Any:
    """og.Model() for the candidate (holds the GIL for the whole load)."""
    config = og.Config(str(folder.path))
    config.clear_providers()
    if candidate.og_name != "cpu":
        config.append_provider(candidate.og_name)
        for key, value in candidate.options:
            config.set_provider_option(candidate.og_name, key, value)
        if candidate.device_type:
            config.set_decoder_provider_options_hardware_device_type(candidate.og_name, candidate.device_type)
    if threads:
        config.overlay(
            '{"model": {"decoder": {"session_options": {"intra_op_num_threads": %d}}}}' % threads
        )
    return og.Model(config)


def smoke_test(og: Any, loaded: LoadedModel) -> None:
    """Generate one token greedily; raises RuntimeError if the provider cannot run the model."""
    options = og.RequestOptions()
    options.set_max_session_tokens(min(64, loaded.max_length))
    request = loaded.engine.create_request(options=options)
    try:
        turn = og.TurnOptions(request)
        turn.set_max_generated_tokens(1)
        turn.set_do_sample(False)
        turn.set_top_k(1)
        request.begin_turn(loaded.tokenizer.encode("Hi"), turn)
        buffer = loaded.engine.create_event_buffer(4)
        while loaded.engine.has_pending_requests():
            for event in loaded.engine.run(buffer):
                if event.flags & og.EngineEventFlags.FAILED:
                    raise RuntimeError(f"generation failed (error code {event.error_code})")
    finally:
        request.close()


def map_load_error(folder: ModelFolder, candidate: Candidate, exc: RuntimeError) -> Exception:
    """Turn onnxruntime-genai's RuntimeError text into a typed error."""
    text = str(exc).strip()
    if "Error encountered while parsing" in text or "JSON Error" in text:
        return InvalidModelFolderError(folder.path, CONFIG_NAME, text.split("JSON Error:")[-1].strip())
    if "Load model from" in text and "failed" in text:
        return InvalidModelFolderError(folder.path, "model.onnx", text.split("failed:")[-1].strip())
    if candidate.og_name == "cpu":
        return EngineFailureError(text)
    return ProviderUnavailableError(candidate.label, text.splitlines()[0][:300])
