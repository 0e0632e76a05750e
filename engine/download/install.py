"""Install a catalog variant, whichever way it is obtained: a prebuilt download, or the original
weights downloaded and converted here. Both expose run(on_progress) / pause() / cancel()."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any, Protocol

from engine.catalog.schema import CatalogModel, Variant
from engine.download.job import Download, DownloadProgress, DownloadRequest, Phase
from engine.download.store import ModelStore

#: What a conversion needs from a Hugging Face checkpoint (no *.py: never run remote code).
CHECKPOINT_FILES = ("*.json", "*.safetensors", "*.txt", "*.jinja", "tokenizer.model")


class Installer(Protocol):
    """A running install."""

    def run(self, on_progress: Callable[[DownloadProgress], None] = ...): ...  # returns the folder
    def pause(self) -> None: ...
    def cancel(self) -> None: ...


class ConvertInstall:
    """Download the original checkpoint (verified, resumable), then build the variant locally."""

    def __init__(self, model: CatalogModel, variant: Variant, store: ModelStore, name: str,
                 endpoint: str | None = None) -> None:
        self.model, self.variant, self.store, self.name = model, variant, store, name
        self._download = Download(DownloadRequest(
            name=name + ".hf", model=model.id, variant=variant.id, repo=variant.repo, subfolder="",
            revision=variant.revision, estimated_size=variant.size, probe_file="config.json",
            patterns=CHECKPOINT_FILES, is_onnx_model=False), store, endpoint=endpoint, install=False)
        self._conversion: Any = None  # engine.convert.Conversion, imported lazily
        self._stopped = False

    def pause(self) -> None:
        self._stopped = True
        self._download.pause()
        if self._conversion:
            self._conversion.cancel(cancelled=False)

    def cancel(self) -> None:
        self._stopped = True
        self._download.cancel()
        if self._conversion:
            self._conversion.cancel()

    def run(self, on_progress: Callable[[DownloadProgress], None] = lambda p: None):
        from engine.convert import Conversion, ConvertRequest
        from engine.download.errors import DownloadStopped

        files = self._download.run(on_progress)
        self._conversion = Conversion(ConvertRequest(
            self.name, files, self.variant.precision or "int4", self.variant.execution_provider or "cpu",
            self.model.id, self.variant.id), self.store)
        if self._stopped:
            raise DownloadStopped(cancelled=False)
        path = self._conversion.run(lambda p: on_progress(
            DownloadProgress(Phase.BUILDING, int(p.fraction * 1000), 1000, stage=p.stage)))
        shutil.rmtree(self.store.staging(self.name + ".hf"), ignore_errors=True)
        return path


def make_installer(model: CatalogModel, variant: Variant, store: ModelStore, *, name: str | None = None,
                   endpoint: str | None = None) -> Installer:
    """The right installer for the variant's source."""
    name = name or model.id
    if variant.source == "convert":
        return ConvertInstall(model, variant, store, name, endpoint)
    return Download(DownloadRequest.for_variant(model, variant, name), store, endpoint=endpoint)
