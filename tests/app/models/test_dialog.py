"""The model manager dialog, driven as a user would, against the fake hub."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.models.dialog import CLOSE_QUESTIONS, CloseChoice, ModelManagerDialog, ask_on_close
from app.models.probe import Probe
from app.ops import Ops
from engine.catalog.load import load_catalog
from engine.download.store import ModelStore
from engine.models import DEMO
from engine.recommend import Machine
from tests.engine.download.conftest import served_model
from tests.engine.download.fake_hub import Fault, serving

PLUS = "microsoft/Phi-4-reasoning-plus-onnx"
GPU_FOLDER = "gpu/gpu-int4-rtn-block-32"
LAPTOP = Machine(ram_total=16_000_000_000, ram_available=12_000_000_000, providers=("cpu",))


@pytest.fixture
def hub():
    with serving(PLUS, served_model(), GPU_FOLDER) as fake:
        yield fake


@pytest.fixture
def ops(qtbot):
    registry = Ops()
    yield registry
    registry.shutdown()


@pytest.fixture
def dialog(qtbot, ponder_home, hub, ops):
    ponder_home.ensure()
    d = ModelManagerDialog(ModelStore(ponder_home), load_catalog(), LAPTOP, ops=ops, endpoint=hub.url,
                           bandwidth=20e9, cores=2)
    qtbot.addWidget(d)
    d.show()
    return d


def _status_of(dialog, model_name, variant_label):
    tree = dialog.tree
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        for j in range(group.childCount()):
            item = group.child(j)
            if item.text(0) == model_name and item.text(1) == variant_label:
                return item
    return None


def test_shows_the_recommendation_with_reasons_and_a_badge(dialog):
    assert dialog.objectName() == "modelManager"
    assert dialog.rec_title.text() == "Recommended for this computer: Phi-4-mini-reasoning, CPU int4 (built on this computer)"
    assert "needs about" in dialog.rec_reasons.text() and "GB" in dialog.rec_reasons.text()
    assert _status_of(dialog, "Phi-4-mini-reasoning", "CPU int4 (built on this computer)").text(3) == "★ Recommended"
    gpu = _status_of(dialog, "Phi-4-reasoning", "GPU int4")
    assert gpu.text(3) == "Not for this computer" and "NVIDIA" in gpu.toolTip(3)


@pytest.mark.slow
def test_download_shows_progress_then_the_model_is_installed_and_usable(dialog, qtbot, hub):
    hub.faults[f"{GPU_FOLDER}/model.onnx.data"] = Fault(delay_s=0.01)
    dialog.select("catalog", ("phi-4-reasoning-plus", "gpu-int4"))
    dialog.download_button.click()
    assert "Warning:" in dialog.message.text() and "GPU" in dialog.message.text()  # a pick that won't run here
    assert dialog.progress_box.isVisible() and not dialog.download_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=30_000)
    qtbot.waitUntil(lambda: not dialog.progress_box.isVisible(), timeout=60_000)
    assert "is installed" in dialog.message.text()
    item = _status_of(dialog, "phi-4-reasoning-plus", "phi-4-reasoning-plus · gpu-int4")
    assert item is not None and item.text(3) == "Ready, verified"
    with qtbot.waitSignal(dialog.model_chosen) as chosen:
        dialog.use_button.click()
    assert chosen.args == ["phi-4-reasoning-plus"]


def test_cancel_stops_the_download_and_keeps_nothing(dialog, qtbot, hub):
    hub.faults[f"{GPU_FOLDER}/model.onnx.data"] = Fault(delay_s=0.1)
    dialog.download("phi-4-reasoning-plus", "gpu-int4")
    qtbot.waitUntil(lambda: "downloading" in dialog.progress_detail.text().lower(), timeout=30_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.progress_box.isVisible(), timeout=30_000)
    assert dialog.message.text() == "Download cancelled; nothing was kept."
    assert dialog.store.get("phi-4-reasoning-plus") is None


@pytest.mark.slow
def test_pause_then_download_again_resumes(dialog, qtbot, hub):
    hub.faults[f"{GPU_FOLDER}/model.onnx.data"] = Fault(delay_s=0.05)
    dialog.download("phi-4-reasoning-plus", "gpu-int4")
    qtbot.waitUntil(lambda: "downloading" in dialog.progress_detail.text().lower(), timeout=30_000)
    dialog.pause_button.click()
    qtbot.waitUntil(lambda: not dialog.progress_box.isVisible(), timeout=30_000)
    assert "Paused" in dialog.message.text()
    hub.faults.clear()
    dialog.download("phi-4-reasoning-plus", "gpu-int4")
    qtbot.waitUntil(lambda: "is installed" in dialog.message.text(), timeout=60_000)


def test_a_server_error_is_shown_with_a_next_step(dialog, qtbot, hub):
    hub.faults[f"{GPU_FOLDER}/genai_config.json"] = Fault(missing=True)
    dialog.download("phi-4-reasoning-plus", "gpu-int4")
    qtbot.waitUntil(lambda: dialog.message.property("kind") == "error", timeout=30_000)
    assert "not found" in dialog.message.text() and "import" in dialog.message.text()
    assert dialog.download_button.isEnabled() or dialog.tree.selectedItems() == []


def test_import_then_remove(dialog, qtbot, tmp_path, monkeypatch):
    src = tmp_path / "stick" / "my-phi"
    shutil.copytree(served_model(), src)
    dialog.import_folder(src)
    qtbot.waitUntil(lambda: "is installed" in dialog.message.text(), timeout=30_000)
    assert dialog.store.get("my-phi") is not None
    assert "Installed models use" in dialog.disk.text()
    dialog.select("installed", "my-phi")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.remove_button.click()
    assert "Removed 'my-phi'" in dialog.message.text()
    assert dialog.store.get("my-phi") is None


def test_importing_a_bad_folder_explains_why(dialog, qtbot, tmp_path):
    (tmp_path / "junk").mkdir()
    dialog.import_folder(tmp_path / "junk")
    qtbot.waitUntil(lambda: dialog.message.property("kind") == "error", timeout=30_000)
    assert "genai_config.json" in dialog.message.text()


def test_try_the_demo_picks_the_demo(dialog, qtbot):
    with qtbot.waitSignal(dialog.model_chosen) as chosen:
        dialog.try_demo.click()
    assert chosen.args == [DEMO]


def test_without_the_build_tools_a_buildable_variant_says_so(qtbot, ponder_home, ops):
    """The packaged app cannot build models: the dialog recommends a prebuilt one and marks the
    build as needing the tools, not as too big."""
    ponder_home.ensure()
    machine = Machine(ram_total=8_000_000_000, ram_available=6_000_000_000, providers=("cpu",), can_build=False)
    d = ModelManagerDialog(ModelStore(ponder_home), load_catalog(), machine, ops=ops)
    qtbot.addWidget(d)
    d.show()
    assert d.rec_title.text() == "Recommended for this computer: Phi-4-mini-instruct, CPU int4"
    built = _status_of(d, "Phi-4-mini-reasoning", "CPU int4 (built on this computer)")
    assert built.text(3) == "Needs the build tools" and "optional tools" in built.toolTip(3)


def test_offline_download_says_so_plainly_keeps_the_part_and_offers_retry(qtbot, ponder_home, hub, ops):
    # A host name that cannot be looked up, as on a computer with no network.
    ponder_home.ensure()
    offline = ModelManagerDialog(ModelStore(ponder_home), load_catalog(), LAPTOP, endpoint="http://ponder-hub.invalid",
                                 bandwidth=20e9, cores=2, ops=ops)
    qtbot.addWidget(offline)
    offline.show()
    offline.download("phi-4-reasoning-plus", "gpu-int4")
    qtbot.waitUntil(lambda: offline.message.property("kind") == "error", timeout=60_000)
    text = offline.message.text()
    assert "offline" in text and "kept" in text
    assert "Errno" not in text and "Name or service" not in text
    assert offline.retry_button.isVisible()
    # Back online: Retry goes on with the same download.
    offline.endpoint = hub.url
    qtbot.mouseClick(offline.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "is installed" in offline.message.text(), timeout=60_000)
    assert not offline.retry_button.isVisible()


def test_one_clear_recommendation_with_speed_time_and_doctors_numbers(dialog):
    pitch = dialog.rec_reasons.text()
    # 20 GB/s × 60 % over 3.8 B parameters × 0.6 bytes: about 5.3 tokens/s.
    assert "about 5.3 tokens/s" in pitch
    assert "none here" not in pitch and "\n" not in pitch  # one paragraph, not a block of lines
    assert "to build it here" in pitch and "min" in pitch
    # RAM as `ponder doctor` writes it: binary gigabytes.
    assert f"{LAPTOP.ram_available / 2**30:.1f} GB are free" in pitch
    assert "none here" in dialog.rec_reasons.toolTip()  # why not the others, on demand
    assert _status_of(dialog, "Phi-4-mini-reasoning", "CPU int4 (built on this computer)").text(4) == "5.3 tokens/s"


def test_a_model_the_recommendation_calls_too_slow_is_not_marked_fits(qtbot, ponder_home, ops):
    desktop = Machine(ram_total=25_000_000_000, ram_available=20_000_000_000, providers=("cpu",))
    ponder_home.ensure()
    d = ModelManagerDialog(ModelStore(ponder_home), load_catalog(), desktop, bandwidth=20e9, cores=2, ops=ops)
    qtbot.addWidget(d)
    assert _status_of(d, "Phi-4-reasoning", "CPU int4").text(3) == "Too slow here"


# --- closing during a job (issue #15) ---

def _answering(dialog, choice):
    asked = []
    dialog.ask_on_close = lambda kind, what: (asked.append((kind, what)), choice)[1]
    return asked


def _downloading(dialog, qtbot, hub, delay_s=0.05):
    hub.faults[f"{GPU_FOLDER}/model.onnx.data"] = Fault(delay_s=delay_s)
    dialog.download("phi-4-reasoning-plus", "gpu-int4")
    qtbot.waitUntil(lambda: "downloading" in dialog.progress_detail.text().lower(), timeout=30_000)


def test_closing_during_a_download_asks_and_stop_keeps_the_part_for_a_resume(dialog, qtbot, hub):
    _downloading(dialog, qtbot, hub)
    asked = _answering(dialog, CloseChoice.STOP)
    dialog.close()
    assert asked == [("download", "Phi-4-reasoning-plus")] and not dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    assert "Paused" in dialog.message.text()  # paused, not cancelled: Download resumes it
    assert any(dialog.store.staging("phi-4-reasoning-plus").rglob("*"))  # the part is kept


def test_closing_during_a_download_and_keeping_it_finishes_and_tells_the_window(dialog, qtbot, hub):
    told = []
    dialog.notify = lambda text, kind: told.append((text, kind))
    _downloading(dialog, qtbot, hub, delay_s=0.01)
    _answering(dialog, CloseChoice.KEEP)
    dialog.close()
    assert not dialog.isVisible() and dialog.busy  # it goes on in the background
    qtbot.waitUntil(lambda: bool(told), timeout=60_000)
    assert told == [("'phi-4-reasoning-plus' is installed. Choose it in File → Models….", "info")]
    assert dialog.store.get("phi-4-reasoning-plus") is not None


def test_closing_during_a_download_and_cancelling_the_close_keeps_the_dialog(dialog, qtbot, hub):
    _downloading(dialog, qtbot, hub)
    asked = _answering(dialog, CloseChoice.CANCEL)
    dialog.close()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert len(asked) == 2 and dialog.isVisible() and dialog.busy
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)


def test_closing_when_nothing_runs_asks_nothing(dialog):
    asked = _answering(dialog, CloseChoice.CANCEL)
    dialog.close()
    assert asked == [] and not dialog.isVisible()


def test_closing_during_a_build_asks_about_the_build(dialog, qtbot):
    asked = _answering(dialog, CloseChoice.STOP)
    dialog.download("phi-4-mini-reasoning", "cpu-int4")  # built here from the original weights
    dialog.close()
    assert asked == [("build", "Phi-4-mini-reasoning")]
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    text, stop, keep = CLOSE_QUESTIONS["build"]
    assert (stop, keep) == ("Stop the build", "Keep it running in the background")
    assert "resumes" in CLOSE_QUESTIONS["download"][0]  # a download says it resumes


@pytest.mark.parametrize("button, choice", [("Stop the download", CloseChoice.STOP),
                                            ("Keep downloading in the background", CloseChoice.KEEP),
                                            ("Cancel", CloseChoice.CANCEL)])
def test_the_real_question_has_the_three_answers(qtbot, button, choice):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QPushButton

    seen = []

    def answer():
        box = QApplication.activeModalWidget()
        seen.append(box.text())
        labels = {b.text().replace("&", ""): b for b in box.findChildren(QPushButton)}
        seen.append(sorted(labels))
        labels[button].click()

    QTimer.singleShot(0, answer)
    assert ask_on_close(None, "download", "Phi-4-reasoning") is choice
    assert "Phi-4-reasoning is downloading" in seen[0] and "resumes" in seen[0]
    assert seen[1] == ["Cancel", "Keep downloading in the background", "Stop the download"]


def test_the_dialog_opens_before_the_computer_is_examined(qtbot, ponder_home, ops):
    ponder_home.ensure()
    d = ModelManagerDialog(ModelStore(ponder_home), load_catalog(), None, ops=ops)
    qtbot.addWidget(d)
    d.show()
    assert "Looking at this computer" in d.rec_title.text()
    assert not d.get_recommended.isVisible() and not d.download_button.isEnabled()
    d.probe_done(Probe(LAPTOP, [], 20e9, 2))
    assert d.rec_title.text().startswith("Recommended for this computer: Phi-4-mini-reasoning")
    assert _status_of(d, "Phi-4-mini-reasoning", "CPU int4 (built on this computer)").text(4) == "5.3 tokens/s"
