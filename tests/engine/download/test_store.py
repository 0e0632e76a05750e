"""The store: removal, start-up cleanup, and verification of installed models."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from engine.download.errors import InstallError, IntegrityError
from engine.download.importer import import_folder
from engine.download.store import STALE_AFTER_S
from engine.models import resolve_model
from tests.engine.download.conftest import served_model


@pytest.fixture
def installed(store, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(served_model(), src)
    import_folder(src, store, name="m")
    return store.root / "m"


def test_remove_frees_the_space_and_the_model_is_gone(store, installed):
    size = store.get("m").disk_bytes
    assert store.remove("m") == size > 0
    assert store.get("m") is None and not installed.exists()
    assert list((store.root / ".trash").iterdir()) == []
    with pytest.raises(InstallError):
        store.remove("m")


def test_names_that_leave_the_store_are_refused(store):
    for bad in ("../x", "a/b", "", ".hidden", "demo"):
        with pytest.raises(InstallError):
            store.folder(bad)


def test_cleanup_removes_orphaned_and_old_partials_but_keeps_a_fresh_job(store):
    orphan = store.staging("orphan")
    (orphan / "files").mkdir(parents=True)
    (orphan / "files" / "x.part").write_bytes(b"x")
    old = store.staging("old")
    (old / "files").mkdir(parents=True)
    (old / "job.json").write_text("{}")
    past = time.time() - STALE_AFTER_S - 10
    os.utime(old / "job.json", (past, past))
    fresh = store.staging("fresh")
    (fresh / "files").mkdir(parents=True)
    (fresh / "job.json").write_text("{}")
    (fresh / "files" / "model.onnx.data.part").write_bytes(b"y")
    (fresh / "files" / "tmp.1234.incomplete").write_bytes(b"z")
    (store.root / ".trash" / "gone").mkdir(parents=True)
    store.cleanup()
    assert not orphan.exists() and not old.exists()
    assert (fresh / "files" / "model.onnx.data.part").exists()
    assert not (fresh / "files" / "tmp.1234.incomplete").exists()
    assert list((store.root / ".trash").iterdir()) == []


def test_verify_names_a_flipped_byte(store, installed):
    data = bytearray((installed / "model.onnx.data").read_bytes())
    data[10] ^= 1
    (installed / "model.onnx.data").write_bytes(bytes(data))
    with pytest.raises(IntegrityError) as info:
        store.verify("m")
    assert info.value.file == "model.onnx.data"


@pytest.mark.parametrize("damage", ["truncate", "remove", "extra"])
def test_quick_check_catches_changed_file_sets(store, installed, damage):
    target = installed / "model.onnx.data"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:-1])
    elif damage == "remove":
        target.unlink()
    else:
        (installed / "stray.onnx").write_bytes(b"x")
    with pytest.raises(IntegrityError):
        store.verify("m", full=False)


def test_quick_check_rehashes_a_file_whose_stamp_changed(store, installed):
    target = installed / "tokenizer.json"
    text = target.read_bytes()
    target.write_bytes(text[:-1] + (b" " if text[-1:] != b" " else b"\n"))  # same size, new bytes
    with pytest.raises(IntegrityError):
        store.verify("m", full=False)


def test_an_installed_model_resolves_by_name(store, installed, ponder_home):
    assert resolve_model("m", ponder_home).path == installed.resolve()
    stamp = json.loads((installed / "installed.json").read_text())
    assert stamp["source"] == "import"


def test_a_damaged_installed_model_is_refused_before_loading(store, installed, ponder_home, capsys):
    from app.cli import main
    from engine.catalog.setup import setup_for_spec
    from engine.download.errors import ModelDamagedError

    data = bytearray((installed / "model.onnx.data").read_bytes())
    data[-5] ^= 1
    (installed / "model.onnx.data").write_bytes(bytes(data))
    with pytest.raises(ModelDamagedError) as info:
        setup_for_spec("m", ponder_home)
    assert info.value.file == "model.onnx.data"
    assert main(["ask", "--model", "m", "What is 2 plus 3?"]) == 3
    err = capsys.readouterr().err
    assert "damaged" in err and "model.onnx.data" in err and "Traceback" not in err


def test_a_touched_but_intact_file_is_rehashed_once_and_accepted(store, installed, ponder_home):
    from engine.catalog.setup import setup_for_spec
    from engine.download.integrity import read_stamp

    target = installed / "tokenizer.json"
    os.utime(target, ns=(1, 1))
    before = read_stamp(installed).stat["tokenizer.json"]
    setup_for_spec("m", ponder_home)  # re-hashes, passes, refreshes the stamp
    assert read_stamp(installed).stat["tokenizer.json"] != before


def _damage_behind_the_stamp(path) -> None:
    """Flip a byte in place and put the modification time back: what a power loss can leave."""
    st = path.stat()
    with path.open("r+b") as handle:
        handle.seek(st.st_size - 5)
        byte = handle.read(1)
        handle.seek(st.st_size - 5)
        handle.write(bytes([byte[0] ^ 1]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _leave_an_unclean_run(ponder_home) -> None:
    import subprocess
    import sys

    from engine.run_record import FOLDER

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = ponder_home.data / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{dead.pid}.json").write_text(json.dumps({"pid": dead.pid, "started": 1.0}))


def test_after_an_unclean_shutdown_damage_behind_an_unchanged_stamp_is_found(
        store, installed, ponder_home, capsys):
    from app.cli import main
    from engine.catalog.setup import setup_for_spec

    _damage_behind_the_stamp(installed / "model.onnx.data")
    setup_for_spec("m", ponder_home)  # the cheap check alone cannot see it
    _leave_an_unclean_run(ponder_home)
    assert main(["ask", "--model", "m", "What is 2 plus 3?"]) == 3
    err = capsys.readouterr().err
    assert "damaged" in err and "model.onnx.data" in err and "Traceback" not in err


def test_after_an_unclean_shutdown_an_intact_model_is_hashed_once_then_trusted(store, installed, ponder_home):
    from app.cli import main
    from engine.download.integrity import full_check_pending, read_stamp

    _leave_an_unclean_run(ponder_home)
    assert main(["models", "list"]) == 0  # any Ponder start notices the unclean run
    assert full_check_pending(installed)
    assert main(["ask", "--model", "m", "What is 2 plus 3?"]) == 0  # hashed in full, then loaded
    assert not full_check_pending(installed) and read_stamp(installed).stat
    assert list((ponder_home.data / "running").iterdir()) == []


def _record_of_a_finished_process(folder, kind):
    """A staging record whose owner has exited (its pid may even be reused later)."""
    import subprocess
    import sys

    from engine.download.staging import RECORD, Owner, StagingRecord

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    import psutil
    started = psutil.Process(child.pid).create_time()
    child.wait()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD).write_text(StagingRecord(kind, Owner(child.pid, started), time.time()).to_json())


def test_cleanup_keeps_work_whose_owner_runs_whatever_its_age(store):
    from engine.download.staging import StagingKind, claim

    build = store.staging("m.convert")
    claim(build, StagingKind.BUILD)
    (build / "convert.json").write_text("{}")  # a build in progress: no job.json, no done yet
    download = store.staging("d")
    claim(download, StagingKind.DOWNLOAD)
    (download / "job.json").write_text("{}")
    (download / "files").mkdir()
    (download / "files" / "tmp.1234.incomplete").write_bytes(b"being written")
    past = time.time() - STALE_AFTER_S - 10
    os.utime(download / "job.json", (past, past))
    assert store.cleanup() == []
    assert (build / "convert.json").exists()
    assert (download / "files" / "tmp.1234.incomplete").exists()


def test_cleanup_after_the_owner_is_gone(store):
    from engine.download.staging import StagingKind

    unfinished_build, finished_build = store.staging("a.convert"), store.staging("b.convert")
    paused_download, half_import = store.staging("c"), store.staging("d")
    _record_of_a_finished_process(unfinished_build, StagingKind.BUILD)
    _record_of_a_finished_process(finished_build, StagingKind.BUILD)
    (finished_build / "done").touch()
    _record_of_a_finished_process(paused_download, StagingKind.DOWNLOAD)
    (paused_download / "job.json").write_text("{}")
    _record_of_a_finished_process(half_import, StagingKind.IMPORT)
    store.cleanup()
    assert not unfinished_build.exists() and not half_import.exists()
    assert finished_build.exists() and paused_download.exists()  # reused or resumed next time
