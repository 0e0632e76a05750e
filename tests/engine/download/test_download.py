"""Downloads against a local fake hub: the end state is always absent or installed-and-verified."""

from __future__ import annotations

import random
import sys
import threading

import pytest

from engine.download.errors import (
    DownloadStopped, FileNotOnHubError, HubUnreachableError, IntegrityError, NotEnoughSpaceError,
)
from engine.download.integrity import read_stamp, sha256_file
from engine.download.job import Download, DownloadRequest, Phase
from engine.model_folder import validate_model_folder
from tests.engine.download.conftest import REPO, SUBFOLDER, served_model
from tests.engine.download.fake_hub import Fault


def request(name: str = "demo-dl", **extra) -> DownloadRequest:
    options = dict(model="phi-4-mini-reasoning", variant="cpu-int4", repo=REPO, subfolder=SUBFOLDER,
                   revision="main", estimated_size=3_000_000, chunk_size=16384)
    return DownloadRequest(name=name, **{**options, **extra})


def assert_absent(store, name="demo-dl"):
    assert store.get(name) is None
    assert not (store.root / name).exists()


def assert_installed(store, name="demo-dl"):
    installed = store.get(name)
    assert installed is not None and installed.stamp is not None
    source = served_model()
    for entry in installed.stamp.files:
        assert entry.sha256 == sha256_file(source / entry.path)
    validate_model_folder(installed.path)
    assert not store.staging(name).exists()
    return installed


def test_download_installs_a_verified_model_with_progress(hub, store):
    reports = []
    folder = Download(request(), store, endpoint=hub.url).run(reports.append)
    installed = assert_installed(store)
    assert folder == installed.path
    assert installed.stamp.origin.endswith("@" + "0123456789abcdef0123456789abcdef01234567")
    phases = [r.phase for r in reports]
    assert phases[0] is Phase.PREPARING and phases[-1] is Phase.DONE
    assert Phase.DOWNLOADING in phases and Phase.VERIFYING in phases
    verify = [r for r in reports if r.phase is Phase.VERIFYING]
    assert verify[-1].done == verify[-1].total == installed.stamp.size
    # Only the pinned commit was asked for once the plan was made.
    assert all("/resolve/0123456789abcdef" in p for m, p, _ in hub.log if m == "GET" and "/resolve/" in p)


@pytest.mark.slow
def test_a_dropped_connection_resumes_with_a_range_request(hub, store):
    hub.faults[f"{SUBFOLDER}/model.onnx.data"] = Fault(drop_after=300_000)
    Download(request(), store, endpoint=hub.url).run()
    assert_installed(store)
    ranges = hub.ranges_for("model.onnx.data")
    assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")
    assert int(ranges[1][6:].split("-")[0]) > 0


def test_wrong_bytes_of_the_right_size_are_refused(hub, store):
    hub.faults[f"{SUBFOLDER}/model.onnx.data"] = Fault(corrupt=True)
    with pytest.raises(IntegrityError) as info:
        Download(request(), store, endpoint=hub.url).run()
    assert info.value.file == "model.onnx.data"
    assert "model.onnx.data" in info.value.user_message()
    assert_absent(store)
    assert not (store.staging("demo-dl") / "files" / "model.onnx.data").exists()


def test_a_missing_file_is_a_clear_not_found_error(hub, store):
    hub.faults[f"{SUBFOLDER}/genai_config.json"] = Fault(missing=True)
    with pytest.raises(FileNotOnHubError) as info:
        Download(request(), store, endpoint=hub.url).run()
    assert "not found" in info.value.user_message()
    assert_absent(store)


def test_a_missing_repository_is_a_clear_not_found_error(hub, store):
    with pytest.raises(FileNotOnHubError):
        Download(request(repo="microsoft/Nope"), store, endpoint=hub.url).run()
    assert_absent(store)


def test_a_server_that_is_gone_fails_cleanly(hub, store):
    # Point at a port nothing listens on.
    with pytest.raises(HubUnreachableError) as info:
        Download(request(), store, endpoint=hub.url.rsplit(":", 1)[0] + ":9").run()
    assert "try again" in info.value.user_message()
    assert_absent(store)


def test_not_enough_space_is_refused_before_anything_is_fetched(hub, store):
    with pytest.raises(NotEnoughSpaceError) as info:
        Download(request(), store, endpoint=hub.url, disk_free=lambda path: 1000).run()
    assert "GB" in info.value.user_message()
    assert not [entry for entry in hub.log if "/resolve/" in entry[1] and entry[0] == "GET"]
    assert_absent(store)


def test_a_disk_that_fills_up_while_writing_is_reported(hub, store):
    # The transfer process may write at most 100 kB per file, like a disk that fills up.
    wrapper = (
        "import resource, runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000)); "
        "sys.argv = ['worker'] + sys.argv[1:]; runpy.run_module('engine.download.worker', run_name='__main__')"
    )
    with pytest.raises(NotEnoughSpaceError) as info:
        Download(request(), store, endpoint=hub.url, command=[sys.executable, "-c", wrapper]).run()
    assert "filled up" in info.value.user_message()
    assert_absent(store)


def _stop_when(download: Download, threshold: int, cancel: bool):
    def watch(progress):
        if progress.phase is Phase.DOWNLOADING and progress.done >= threshold:
            download.cancel() if cancel else download.pause()
    return watch


def test_cancel_on_a_slow_server_deletes_the_partial_download(hub, store):
    hub.faults[f"{SUBFOLDER}/model.onnx.data"] = Fault(delay_s=0.05)
    download = Download(request(), store, endpoint=hub.url, poll_s=0.05)
    with pytest.raises(DownloadStopped) as info:
        download.run(_stop_when(download, 50_000, cancel=True))
    assert info.value.cancelled
    assert_absent(store)
    assert not store.staging("demo-dl").exists()


@pytest.mark.slow
def test_pause_keeps_the_partial_file_and_a_new_download_resumes_it(hub, store):
    hub.faults[f"{SUBFOLDER}/model.onnx.data"] = Fault(delay_s=0.02)
    download = Download(request(), store, endpoint=hub.url, poll_s=0.05)
    with pytest.raises(DownloadStopped) as info:
        download.run(_stop_when(download, 100_000, cancel=False))
    assert not info.value.cancelled
    assert_absent(store)
    part = store.staging("demo-dl") / "files" / "model.onnx.data.part"
    assert part.stat().st_size > 0
    hub.faults.clear()
    Download(request(), store, endpoint=hub.url).run()
    assert_installed(store)
    assert any(r and int(r[6:].split("-")[0]) > 0 for r in hub.ranges_for("model.onnx.data"))


@pytest.mark.slow
def test_killed_at_random_offsets_then_resumed_ends_verified(hub, store):
    rng = random.Random(5)
    hub.faults[f"{SUBFOLDER}/model.onnx.data"] = Fault(delay_s=0.01)
    size = len(served_model().joinpath("model.onnx.data").read_bytes())
    for _ in range(4):
        download = Download(request(), store, endpoint=hub.url, poll_s=0.02)
        threshold = rng.randrange(1, size)
        try:
            download.run(_stop_when(download, threshold, cancel=False))
        except DownloadStopped:
            assert_absent(store)
            continue
        break
    hub.faults.clear()
    if store.get("demo-dl") is None:
        Download(request(), store, endpoint=hub.url).run()
    assert_installed(store)


def test_a_model_already_installed_is_not_downloaded_over(hub, store):
    Download(request(), store, endpoint=hub.url).run()
    from engine.download.errors import InstallError
    with pytest.raises(InstallError):
        Download(request(), store, endpoint=hub.url).run()
    assert_installed(store)


def test_pause_from_another_thread_stops_promptly(hub, store):
    hub.faults[f"{SUBFOLDER}/model.onnx.data"] = Fault(delay_s=0.2)
    download = Download(request(), store, endpoint=hub.url, poll_s=0.05)
    started = threading.Event()

    def watch(progress):
        if progress.phase is Phase.DOWNLOADING:
            started.set()

    errors = []
    thread = threading.Thread(target=lambda: _run(download, watch, errors))
    thread.start()
    assert started.wait(30)
    download.pause()
    thread.join(30)
    assert not thread.is_alive()
    assert isinstance(errors[0], DownloadStopped) and not errors[0].cancelled


def _run(download, watch, errors):
    try:
        download.run(watch)
    except Exception as exc:  # noqa: BLE001
        errors.append(exc)


def test_stamp_records_every_file_hash(hub, store):
    Download(request(), store, endpoint=hub.url).run()
    stamp = read_stamp(store.root / "demo-dl")
    served = {p.relative_to(served_model()).as_posix() for p in served_model().rglob("*") if p.is_file()}
    assert {f.path for f in stamp.files} == served


def test_an_unverified_catalog_file_list_does_not_block_the_download(hub, store):
    from engine.catalog.load import load_catalog

    model = load_catalog().model("phi-4-mini-reasoning")
    variant = model.variant("gpu-int4")  # its file list is copied from Phi-4-mini-instruct, unverified
    req = DownloadRequest.for_variant(model, variant, "mini")
    assert req.files == () and req.estimated_size == variant.size


def test_a_worker_that_writes_much_to_stderr_does_not_hang_the_download(store):
    # More than a pipe holds (64 KiB), then the worker's one-line report: the download must end
    # with the worker's error, not wait forever on a child blocked in a write nobody reads.
    noisy = ("import sys, json; sys.stderr.write('warning: slow disk\\n' * 20000); sys.stderr.flush(); "
             "print(json.dumps({'error': 'not_found', 'message': 'gone', 'file': None})); sys.exit(3)")
    download = Download(request(), store, command=[sys.executable, "-c", noisy], poll_s=0.05)
    outcome = {}

    def run() -> None:
        try:
            download.run()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():
        download.cancel()
        thread.join(10)
        pytest.fail("the download hung on a worker that wrote a lot to stderr")
    assert isinstance(outcome.get("error"), FileNotOnHubError)
    assert "gone" in outcome["error"].user_message()
