"""Import: a folder is validated like any model, every escape is refused, nothing half-installed."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from engine.download.errors import InstallError, IntegrityError
from engine.download.importer import import_folder
from engine.download.integrity import read_stamp, sha256_file
from engine.errors import InvalidModelFolderError
from tests.engine.download.conftest import served_model


@pytest.fixture
def usb(tmp_path):
    """A copy of the demo model, as on a USB stick."""
    folder = tmp_path / "usb" / "Phi demo"
    shutil.copytree(served_model(), folder)
    return folder


def _absent(store, name):
    assert store.get(name) is None and not store.staging(name).exists()


def test_import_copies_verifies_and_registers(usb, store):
    seen = []
    path = import_folder(usb, store, progress=lambda done, total: seen.append((done, total)))
    assert path == store.root / "Phi-demo"
    stamp = read_stamp(path)
    assert stamp.source == "import" and stamp.origin == str(usb)
    assert {f.path: f.sha256 for f in stamp.files} == {
        p.relative_to(usb).as_posix(): sha256_file(p) for p in usb.rglob("*") if p.is_file()}
    assert seen[-1][0] == seen[-1][1] == stamp.size
    store.verify("Phi-demo")  # a full re-hash passes


def test_import_refuses_a_name_in_use(usb, store):
    import_folder(usb, store, name="m")
    with pytest.raises(InstallError):
        import_folder(usb, store, name="m")


def _set_decoder(folder, filename):
    config_path = folder / "genai_config.json"
    config = json.loads(config_path.read_text())
    config["model"]["decoder"]["filename"] = filename
    config_path.write_text(json.dumps(config))


def test_import_refuses_dotdot_in_genai_config(usb, store):
    _set_decoder(usb, "../model.onnx")
    shutil.copy(usb / "model.onnx", usb.parent / "model.onnx")
    with pytest.raises(InvalidModelFolderError, match="outside"):
        import_folder(usb, store, name="m")
    _absent(store, "m")


def test_import_refuses_an_absolute_path_in_genai_config(usb, store):
    _set_decoder(usb, str(usb / "model.onnx"))
    with pytest.raises(InvalidModelFolderError, match="outside"):
        import_folder(usb, store, name="m")
    _absent(store, "m")


def test_import_refuses_a_symlinked_file_leading_outside(usb, store, tmp_path):
    outside = tmp_path / "elsewhere.data"
    shutil.move(usb / "model.onnx.data", outside)
    os.symlink(outside, usb / "model.onnx.data")
    with pytest.raises(InvalidModelFolderError) as info:
        import_folder(usb, store, name="m")
    assert info.value.file == "model.onnx.data" and "outside" in info.value.reason
    _absent(store, "m")


def test_import_refuses_a_symlinked_folder(usb, store, tmp_path):
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", usb / "extra")
    with pytest.raises(InvalidModelFolderError, match="linked folder"):
        import_folder(usb, store, name="m")
    _absent(store, "m")


def test_import_accepts_a_link_that_stays_inside_and_stores_a_real_file(usb, store):
    shutil.move(usb / "tokenizer.json", usb / "tok-real.json")
    os.symlink("tok-real.json", usb / "tokenizer.json")
    path = import_folder(usb, store, name="m")
    assert not (path / "tokenizer.json").is_symlink()


def test_import_checks_the_hashes_of_a_ponder_manifest(usb, store):
    first = import_folder(usb, store, name="a")
    exported = usb.parent / "exported"
    shutil.copytree(first, exported)
    data = bytearray((exported / "model.onnx.data").read_bytes())
    data[100] ^= 0xFF
    (exported / "model.onnx.data").write_bytes(bytes(data))
    with pytest.raises(IntegrityError) as info:
        import_folder(exported, store, name="b")
    assert info.value.file == "model.onnx.data"
    _absent(store, "b")


def test_import_of_a_folder_without_config_is_refused(tmp_path, store):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.txt").write_text("hi")
    with pytest.raises(InvalidModelFolderError, match="missing"):
        import_folder(tmp_path / "empty", store, name="m")
    _absent(store, "m")
