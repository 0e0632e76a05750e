"""Reuse: models already in the Hugging Face, Foundry Local and AI Toolkit caches are found,
verified and installed without a second download."""

from __future__ import annotations

import os
import shutil

import pytest

from engine.catalog.load import load_catalog
from engine.download.integrity import read_stamp
from engine.download.store import ModelStore
from engine.errors import InvalidModelFolderError
from engine.reuse import AI_TOOLKIT, FOUNDRY, HF_CACHE, find_reusable, use_found
from tests.engine.download.conftest import served_model

REV = "4a8abc2aba0ffefe38947f213d442e5bfc54f93c"


def make_hf_cache(home):
    """The layout huggingface_hub writes: snapshot files are links into blobs/."""
    repo = home / ".cache" / "huggingface" / "hub" / "models--microsoft--Phi-4-mini-reasoning-onnx"
    snap = repo / "snapshots" / REV / "gpu" / "gpu-int4-rtn-block-32"
    snap.mkdir(parents=True)
    (repo / "blobs").mkdir()
    for i, path in enumerate(sorted(p for p in served_model().iterdir() if p.is_file())):
        blob = repo / "blobs" / f"blob{i}"
        shutil.copy(path, blob)
        os.symlink(os.path.relpath(blob, snap), snap / path.name)
    return repo, snap


@pytest.fixture
def catalog():
    return load_catalog()


def test_finds_hf_cache_foundry_and_ai_toolkit_folders(tmp_path, catalog):
    home = tmp_path / "home"
    _, snap = make_hf_cache(home)
    foundry = home / ".foundry" / "cache" / "models" / "Microsoft" / "Phi-4-reasoning-generic-cpu-1" / "v1"
    shutil.copytree(served_model(), foundry)
    aitk = home / ".aitk" / "models" / "Microsoft" / "Phi-4-mini-instruct-cuda-gpu"
    shutil.copytree(served_model(), aitk)
    found = {f.tool: f for f in find_reusable(catalog, environ={}, home=home)}
    assert (found[HF_CACHE].path, found[HF_CACHE].model, found[HF_CACHE].variant) == (
        snap, "phi-4-mini-reasoning", "gpu-int4")
    assert found[HF_CACHE].revision == REV
    assert (found[FOUNDRY].model, found[FOUNDRY].variant) == ("phi-4-reasoning", "cpu-int4")
    assert (found[AI_TOOLKIT].model, found[AI_TOOLKIT].variant) == ("phi-4-mini-instruct", "gpu-int4")


def test_using_an_hf_cache_folder_installs_real_files_without_copying(tmp_path, catalog, ponder_home):
    home = tmp_path / "home"
    repo, snap = make_hf_cache(home)
    found = find_reusable(catalog, environ={}, home=home)[0]
    store = ModelStore(ponder_home)
    path = use_found(found, store)
    assert path == store.root / "phi-4-mini-reasoning"
    data = path / "model.onnx.data"
    assert not data.is_symlink() and data.stat().st_nlink == 2  # hard link to the cached blob
    stamp = read_stamp(path)
    assert (stamp.source, stamp.model, stamp.variant) == ("reuse", "phi-4-mini-reasoning", "gpu-int4")


def test_a_cache_link_leading_outside_the_repository_is_refused(tmp_path, catalog, ponder_home):
    home = tmp_path / "home"
    repo, snap = make_hf_cache(home)
    outside = tmp_path / "outside.data"
    shutil.copy(served_model() / "model.onnx.data", outside)
    (snap / "model.onnx.data").unlink()
    os.symlink(outside, snap / "model.onnx.data")
    found = find_reusable(catalog, environ={}, home=home)[0]
    store = ModelStore(ponder_home)
    with pytest.raises(InvalidModelFolderError, match="outside"):
        use_found(found, store)
    assert store.get("phi-4-mini-reasoning") is None


def test_nothing_found_on_a_clean_machine(tmp_path, catalog):
    assert find_reusable(catalog, environ={}, home=tmp_path) == []


def test_foundry_locals_mini_reasoning_cpu_build_is_found_and_its_trtrtx_build_is_not_taken_for_ours(
        tmp_path, catalog):
    home = tmp_path / "home"
    models = home / ".foundry" / "cache" / "models" / "Microsoft"
    cpu = models / "Phi-4-mini-reasoning-generic-cpu-4" / "cpu-int4-rtn-block-32-acc-level-4"
    trt = models / "Phi-4-mini-reasoning-trtrtx-gpu-1" / "v1"
    shutil.copytree(served_model(), cpu)
    shutil.copytree(served_model(), trt)
    found = {f.path: f for f in find_reusable(catalog, environ={}, home=home)}
    assert (found[cpu].tool, found[cpu].model, found[cpu].variant) == (FOUNDRY, "phi-4-mini-reasoning", "cpu-int4")
    assert found[trt].model == "phi-4-mini-reasoning" and found[trt].variant is None
