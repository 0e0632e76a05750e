"""Local conversion with onnxruntime-genai's model builder, on the demo model's checkpoint."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from engine.convert import Conversion, ConversionFailedError, ConversionUnavailableError, ConvertRequest
from engine.download.errors import DownloadStopped
from engine.download.integrity import read_stamp
from engine.download.store import ModelStore
from engine.models import resolve_model
from engine.paths import resources_dir


def checkpoint() -> Path:
    """The demo model's Hugging Face checkpoint (part of the repository)."""
    return resources_dir() / "models" / "demo-hf"


def needs_builder_tools() -> None:
    """The builder needs the `tools` extra (torch, transformers). Nothing at run time needs it, so
    a plain `pip install -e .[test]` skips these tests; tools/test.sh installs the extra and sets
    PONDER_TEST_TOOLS=1, which turns a missing tool into a failure instead of a silent skip."""
    for module in ("torch", "transformers", "onnx_ir"):
        if os.environ.get("PONDER_TEST_TOOLS") == "1":
            importlib.import_module(module)
        else:
            pytest.importorskip(module, reason="local conversion needs: pip install -e '.[tools]'")


@pytest.fixture
def store(ponder_home):
    return ModelStore(ponder_home)


@pytest.mark.slow
def test_conversion_builds_validates_and_registers_a_loadable_model(store, ponder_home):
    needs_builder_tools()
    stages = []
    req = ConvertRequest("demo-cpu", checkpoint(), model="phi-4-mini-reasoning", variant="cpu-int4")
    path = Conversion(req, store).run(stages.append)
    assert [s.fraction for s in stages] == sorted(s.fraction for s in stages)
    assert stages[-1].stage == "done" and any(s.stage.startswith("reading layer") for s in stages)
    stamp = read_stamp(path)
    assert stamp.source == "convert" and stamp.model == "phi-4-mini-reasoning"
    assert not any(p.name.endswith(".convert") for p in (store.root / ".staging").iterdir())
    # It loads and generates on the CPU like any installed model.
    from engine.providers import find_candidate
    from engine.runtime import load_model
    load_model(resolve_model("demo-cpu", ponder_home), find_candidate("cpu"))


def test_cancel_stops_the_builder_and_installs_nothing(store, tmp_path):
    # A stand-in builder that never finishes; cancel must end it.
    hang = ["python3", "-c", "import time, sys; print('Reading layer 0', flush=True); time.sleep(60)"]
    conversion = Conversion(ConvertRequest("m", checkpoint()), store, command=hang)

    def on_progress(progress):
        if progress.stage.startswith("reading layer"):
            conversion.cancel()

    with pytest.raises(DownloadStopped):
        conversion.run(on_progress)
    assert store.get("m") is None


def test_a_failing_builder_reports_its_last_line(store):
    fail = ["python3", "-c", "import sys; print('ValueError: unsupported architecture'); sys.exit(1)"]
    with pytest.raises(ConversionFailedError, match="unsupported architecture"):
        Conversion(ConvertRequest("m", checkpoint()), store, command=fail).run()
    assert store.get("m") is None


def test_a_folder_that_is_not_a_checkpoint_is_refused(store, tmp_path):
    with pytest.raises(ConversionFailedError, match="config.json"):
        Conversion(ConvertRequest("m", tmp_path), store, command=["true"]).run()


def test_missing_tools_are_named_with_the_fix(store, monkeypatch):
    import engine.convert as convert

    monkeypatch.setattr(convert, "missing_tools", lambda: ["torch"])
    with pytest.raises(ConversionUnavailableError) as info:
        Conversion(ConvertRequest("m", checkpoint()), store).run()
    assert "pip install" in info.value.user_message()
    monkeypatch.setattr("sys.frozen", True, raising=False)  # the packaged app cannot pip install
    assert "prebuilt" in info.value.user_message() and "Import" in info.value.user_message()


@pytest.mark.slow
def test_cpu_only_path_downloads_the_checkpoint_then_builds_it(store, ponder_home):
    """Phi-4-mini-reasoning has no CPU build: its checkpoint is fetched (fake hub) and built here."""
    needs_builder_tools()
    from engine.catalog.load import load_catalog
    from engine.catalog.setup import setup_for_spec
    from engine.download.install import make_installer
    from tests.engine.download.fake_hub import serving

    with serving("microsoft/Phi-4-mini-reasoning", checkpoint()) as fake:
        model = load_catalog().model("phi-4-mini-reasoning")
        phases = []
        path = make_installer(model, model.variant("cpu-int4"), store, endpoint=fake.url).run(
            lambda p: phases.append(p.phase.value))
    assert {"downloading", "verifying", "building"} <= set(phases)
    assert path == store.root / "phi-4-mini-reasoning"
    assert read_stamp(path).variant == "cpu-int4"
    assert setup_for_spec("phi-4-mini-reasoning", ponder_home).catalog_id == "phi-4-mini-reasoning"
    assert not any((store.root / ".staging").iterdir())


def test_cleaning_the_store_during_a_build_keeps_the_build(store, ponder_home):
    # What File -> Models... does each time it opens, and `ponder models` at start, while a build
    # runs in the background: the build's folder must survive and the build must install.
    import sys

    go = ponder_home.cache / "go"
    ponder_home.cache.mkdir(parents=True, exist_ok=True)
    demo = resources_dir() / "models" / "demo"
    builder = [sys.executable, "-c",
               "import os, shutil, sys, time\n"
               "print('Reading layer 0', flush=True)\n"
               f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
               f"shutil.copytree({str(demo)!r}, sys.argv[2])\n"]
    conversion = Conversion(ConvertRequest("m", checkpoint()), store, command=builder)
    kept = []

    def on_progress(progress):
        if progress.stage.startswith("reading layer"):
            store.cleanup()
            kept.append((store.staging("m.convert") / "convert.json").exists())
            go.touch()

    path = conversion.run(on_progress)
    assert kept == [True]
    assert store.get("m") is not None and path == store.folder("m")
