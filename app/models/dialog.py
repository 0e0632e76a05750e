"""The model manager (objectName modelManager): the catalog with a recommended badge, installed
models with their disk use, downloads with progress, pause and cancel, import, verify, remove.

Everything slow runs through the app's ops layer (app/ops): the look at this computer (see
app/models/probe.py), downloads, builds, imports and checks; the dialog only renders state and
forwards clicks. Closing it while a job runs asks whether to stop the job or keep it running.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog, QFileDialog, QFrame, QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton,
    QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from app.errors import user_text
from app.models.probe import Probe, physical_cores
from app.ops import Failure, Op, Ops, TaskState
from engine.catalog.schema import Catalog
from engine.download.errors import DownloadStopped, HubUnreachableError
from engine.download.store import ModelStore
from engine.models import DEMO
from app.models.estimate import INT4_BYTES_PER_PARAM, Estimate, estimate, gib, measure_bandwidth
from engine.recommend import BIG_CPU_RAM, Fit, Machine, Recommendation, assess, recommend

_ROLE = Qt.ItemDataRole.UserRole


def _too_slow(fit: Fit, machine: Machine) -> bool:
    """The recommendation's own rule: a big model on the CPU alone needs plenty of RAM."""
    return fit.variant.kind == "cpu" and fit.model.parameters_b > 10 and machine.ram_total < BIG_CPU_RAM


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


class CloseChoice(Enum):
    """The answers to "a job is running: close anyway?"."""

    STOP = "stop"
    KEEP = "keep"
    CANCEL = "cancel"


#: What closing during each kind of job asks: the question, and the labels of Stop and Keep.
CLOSE_QUESTIONS = {
    "build": ("{what} is being built on this computer. Stop the build? What was downloaded is kept: "
              "Download builds it again without downloading it again.",
              "Stop the build", "Keep it running in the background"),
    "download": ("{what} is downloading. Stop the download? What has arrived is kept, and Download "
                 "resumes from where it stopped.",
                 "Stop the download", "Keep downloading in the background"),
    "other": ("{what} is still running. Stop it?", "Stop", "Keep it running in the background"),
}


def ask_on_close(parent: QWidget, kind: str, what: str) -> CloseChoice:
    """The real question: Stop / Keep it running in the background / Cancel."""
    text, stop_label, keep_label = CLOSE_QUESTIONS.get(kind, CLOSE_QUESTIONS["other"])
    box = QMessageBox(QMessageBox.Icon.Question, "Close Models", text.format(what=what),
                      QMessageBox.StandardButton.NoButton, parent)
    stop = box.addButton(stop_label, QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton(keep_label, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    box.exec()
    clicked = box.clickedButton()
    return CloseChoice.STOP if clicked is stop else CloseChoice.KEEP if clicked is keep else CloseChoice.CANCEL


class ModelManagerDialog(QDialog):
    """Signals:
        model_chosen(str): the user picked a model to use (an installed name or 'demo').

    Attributes:
        ask_on_close: asks what to do when the dialog is closed during a job (tests answer it).
        notify: tells the main window about a job that ended while the dialog was closed.
    """

    model_chosen = Signal(str)

    def __init__(self, store: ModelStore, catalog: Catalog, machine: Machine | None, *, ops: Ops,
                 found: list | None = None, endpoint: str | None = None,
                 bandwidth: float | None = None, cores: int | None = None,
                 notify: Callable[[str, str], None] | None = None,
                 parent: QWidget | None = None) -> None:
        """machine None: the dialog opens at once and says it is looking at this computer until
        probe_done() brings the machine (app/models/probe.py). bandwidth (bytes/s) and cores: for
        the speed and build-time estimates; measured (here) when not given with a machine."""
        super().__init__(parent)
        self.setObjectName("modelManager")
        self.setWindowTitle("Models")
        self.resize(820, 600)
        self.ops = ops
        self.store, self.catalog, self.machine, self.endpoint = store, catalog, machine, endpoint
        self.found = found or []
        self.recommendation: Recommendation | None = recommend(catalog, machine) if machine else None
        self.bandwidth = bandwidth if bandwidth is not None or machine is None else measure_bandwidth()
        self.cores = cores or (physical_cores() if machine is not None else 1)
        self.job: Op[Any] | None = None
        self._job_kind, self._job_what = "other", ""
        self.installer: Any = None
        self.ask_on_close: Callable[[str, str], CloseChoice] = lambda kind, what: ask_on_close(self, kind, what)
        self.notify = notify or (lambda _text, _kind: None)

        self.rec_title = QLabel(self)
        self.rec_title.setObjectName("recommendationTitle")
        font = QFont(self.rec_title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.rec_title.setFont(font)
        self.rec_reasons = QLabel(self)
        self.rec_reasons.setObjectName("recommendationReasons")
        self.rec_reasons.setWordWrap(True)
        self.rec_reasons.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.get_recommended = QPushButton(self)
        self.get_recommended.setObjectName("downloadRecommended")
        self.try_demo = QPushButton("Try the demo now", self)
        self.try_demo.setObjectName("tryDemo")
        rec_box = QFrame(self)
        rec_box.setObjectName("recommendationBox")
        rec_box.setFrameShape(QFrame.Shape.StyledPanel)
        rec_col = QVBoxLayout(rec_box)
        rec_col.addWidget(self.rec_title)
        rec_col.addWidget(self.rec_reasons)
        rec_row = QHBoxLayout()
        rec_row.addWidget(self.get_recommended)
        rec_row.addWidget(self.try_demo)
        rec_row.addStretch(1)
        rec_col.addLayout(rec_row)

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("modelTree")
        self.tree.setHeaderLabels(["Model", "Variant", "Size", "Status", "Speed here"])
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setColumnWidth(0, 200)
        self.tree.setColumnWidth(1, 230)
        self.tree.setColumnWidth(2, 75)
        self.tree.setColumnWidth(3, 160)

        self.use_button = self._button("useModel", "Use")
        self.download_button = self._button("downloadModel", "Download")
        self.import_button = self._button("importModel", "Import folder…")
        self.verify_button = self._button("verifyModel", "Verify")
        self.remove_button = self._button("removeModel", "Remove")
        buttons = QHBoxLayout()
        for b in (self.use_button, self.download_button, self.verify_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)

        self.progress_box = QFrame(self)
        self.progress_box.setObjectName("progressBox")
        self.progress_title = QLabel(self.progress_box)
        self.progress_bar = QProgressBar(self.progress_box)
        self.progress_bar.setObjectName("downloadProgress")
        self.progress_bar.setRange(0, 1000)
        self.progress_detail = QLabel(self.progress_box)
        self.progress_detail.setObjectName("progressDetail")
        self.pause_button = self._button("pauseDownload", "Pause")
        self.cancel_button = self._button("cancelDownload", "Cancel")
        prog = QVBoxLayout(self.progress_box)
        prog.setContentsMargins(0, 0, 0, 0)
        prog.addWidget(self.progress_title)
        row = QHBoxLayout()
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.pause_button)
        row.addWidget(self.cancel_button)
        prog.addLayout(row)
        prog.addWidget(self.progress_detail)
        self.progress_box.hide()

        self.message = QLabel(self)
        self.message.setObjectName("modelMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setObjectName("retryDownloadButton")
        self.retry_button.setToolTip("Download again from where it stopped")
        self.retry_button.clicked.connect(self._retry)
        self.retry_button.hide()
        self._last_download: tuple[str, str] | None = None
        message_row = QHBoxLayout()
        message_row.addWidget(self.message, 1)
        message_row.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        self.disk = QLabel(self)
        self.disk.setObjectName("diskUse")
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.disk, 1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(rec_box)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_box)
        layout.addLayout(message_row)
        layout.addLayout(bottom)

        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.use_selected())
        self.get_recommended.clicked.connect(self.download_recommended)
        self.try_demo.clicked.connect(lambda: self._choose(DEMO))
        self.use_button.clicked.connect(self.use_selected)
        self.download_button.clicked.connect(self.download_selected)
        self.import_button.clicked.connect(self._ask_import)
        self.verify_button.clicked.connect(self.verify_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.pause_button.clicked.connect(self.pause)
        self.cancel_button.clicked.connect(self.cancel)
        self.refresh()

    # --- rendering ---

    @property
    def busy(self) -> bool:
        """A download, build, import or check is running."""
        return self.job is not None and self.job.running

    def probe_done(self, probe: Probe) -> None:
        """The look at this computer has come back: recommend, estimate and list what fits."""
        self.machine, self.found = probe.machine, probe.found
        self.bandwidth, self.cores = probe.bandwidth, probe.cores
        self.recommendation = recommend(self.catalog, probe.machine)
        self.refresh()

    def probe_failed(self, failure: Failure) -> None:
        self.rec_title.setText("This computer could not be examined, so nothing is recommended.")
        self.show_message(failure.text, "error")

    def refresh(self) -> None:
        """Rebuild the lists from the store and the catalog."""
        rec = self.recommendation
        installed = {m.name: m for m in self.store.installed()}
        if rec is None:
            self.rec_title.setText("Looking at this computer (memory, GPU, models of other tools)…")
            self.get_recommended.hide()
            self.rec_reasons.setText("")
        elif rec.choice:
            self.rec_title.setText(f"Recommended for this computer: {rec.summary()}")
            size = rec.choice.variant.size
            self.get_recommended.setText(f"Download {rec.choice.model.name} ({gib(size)})")
            self.get_recommended.setVisible(rec.choice.model.id not in installed)
            self.rec_reasons.setText(self._pitch(rec.choice))
        else:
            self.rec_title.setText(rec.summary())
            self.get_recommended.hide()
            self.rec_reasons.setText("")
        # Why not the others: on demand, not a block of "none here" lines.
        self.rec_reasons.setToolTip("\n".join(r for r in rec.reasons if not r.startswith("→")) if rec else "")
        self.tree.clear()
        mine = self._group("Installed")
        demo = QTreeWidgetItem(mine, ["Demo model", "built in", "", "Ready"])
        demo.setData(0, _ROLE, ("installed", DEMO))
        for m in installed.values():
            status = "Ready, verified" if m.stamp else "Not verified (import it to check)"
            what = f"{m.stamp.model}" + (f" · {m.stamp.variant}" if m.stamp and m.stamp.variant else "") if m.stamp else ""
            item = QTreeWidgetItem(mine, [m.name, what, _gb(m.disk_bytes), status])
            item.setData(0, _ROLE, ("installed", m.name))
        if rec is None or self.machine is None:  # the rest needs the machine: probe_done() fills it in
            self.tree.expandAll()
            self._show_disk_use(installed)
            return
        best = (rec.choice.model.id, rec.choice.variant.id) if rec.choice else None
        available = self._group("Available")
        for model in self.catalog.models:
            for variant in model.variants:
                fit = assess(model, variant, self.machine)
                if model.id in installed:
                    status = "Installed"
                elif (model.id, variant.id) == best:
                    status = "★ Recommended"
                elif not fit.runnable:
                    status = "Not for this computer"
                elif not fit.buildable:
                    status = "Needs the build tools"
                elif fit.warning():
                    status = "Won't fit"
                elif _too_slow(fit, self.machine):
                    status = "Too slow here"
                else:
                    status = "Fits"
                speed = self._estimate(fit).speed_text() if fit.runnable else ""
                item = QTreeWidgetItem(available, [model.name, variant.label, gib(variant.size), status,
                                                   speed.removeprefix("about ")])
                item.setData(0, _ROLE, ("catalog", (model.id, variant.id)))
                item.setToolTip(0, model.summary)
                item.setToolTip(3, fit.warning() or "")
                if status == "★ Recommended":
                    bold = QFont(item.font(3))
                    bold.setBold(True)
                    item.setFont(3, bold)
        if self.found:
            elsewhere = self._group("Found on this computer")
            for f in self.found:
                item = QTreeWidgetItem(elsewhere, [f.model or f.path.name, f.tool, _gb(f.size), "Can be used without downloading"])
                item.setData(0, _ROLE, ("found", f))
                item.setToolTip(0, str(f.path))
        self.tree.expandAll()
        self._show_disk_use(installed)

    def _show_disk_use(self, installed: dict) -> None:
        total = sum(m.disk_bytes for m in installed.values())
        self.disk.setText(f"Installed models use {_gb(total)} in {self.store.root}")
        self._update_buttons()

    def _estimate(self, fit: Fit) -> Estimate:
        weights = fit.model.parameters_b * 1e9 * INT4_BYTES_PER_PARAM
        return estimate(int(weights), fit.variant.kind, bandwidth=self.bandwidth or 0.0,
                        parameters_b=fit.model.parameters_b, cores=self.cores,
                        build=fit.variant.source == "convert")

    def _pitch(self, fit: Fit) -> str:
        """The recommendation in one paragraph: speed here, memory, and the time to get it."""
        guess = self._estimate(fit)
        speed = (f"Expect {guess.speed_text()} on this computer (estimated from its memory speed and the "
                 "model's size). " if guess.tokens_per_s else "")
        return (f"{speed}It needs about {gib(fit.needed)} of {fit.memory}; {gib(fit.available or 0)} are free. "
                f"Getting it: {guess.time_text(fit.variant.size)}.")

    def _group(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title])
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        return item

    def _selected(self) -> tuple[str, Any] | None:
        items = self.tree.selectedItems()
        return items[0].data(0, _ROLE) if items else None

    def select(self, kind: str, value: Any) -> None:
        """Select the row for an installed name, a (model, variant) pair or a found folder."""
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group is None:  # Qt's None is for an index out of range
                continue
            for j in range(group.childCount()):
                row = group.child(j)
                if row is not None and row.data(0, _ROLE) == (kind, value):
                    self.tree.setCurrentItem(row)
                    return

    def _update_buttons(self) -> None:
        sel, busy = self._selected(), self.busy
        kind = sel[0] if sel else None
        self.use_button.setEnabled(kind == "installed" and not busy)
        self.download_button.setEnabled(kind in ("catalog", "found") and not busy)
        self.download_button.setText("Use without downloading" if kind == "found" else "Download")
        user_model = sel is not None and kind == "installed" and sel[1] != DEMO
        self.verify_button.setEnabled(user_model and not busy)
        self.remove_button.setEnabled(user_model and not busy)
        self.import_button.setEnabled(not busy)
        self.get_recommended.setEnabled(not busy and self.recommendation is not None)

    def _button(self, name: str, text: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        return button

    def show_message(self, text: str, kind: str = "info") -> None:
        colors = {"error": "#c62828", "warning": "#a05a00", "info": ""}
        self.message.setStyleSheet(f"color: {colors[kind]};" if colors[kind] else "")
        self.message.setProperty("kind", kind)
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.retry_button.hide()

    # --- actions ---

    def _choose(self, name: str) -> None:
        self.model_chosen.emit(name)
        self.accept()

    def use_selected(self) -> None:
        sel = self._selected()
        if sel and sel[0] == "installed":
            self._choose(sel[1])

    def download_recommended(self) -> None:
        if self.recommendation is not None and self.recommendation.choice:
            choice = self.recommendation.choice
            self.select("catalog", (choice.model.id, choice.variant.id))
            self.download(choice.model.id, choice.variant.id)

    def download_selected(self) -> None:
        sel = self._selected()
        if sel and sel[0] == "catalog":
            self.download(*sel[1])
        elif sel and sel[0] == "found":
            self.use_found(sel[1])

    def download(self, model_id: str, variant_id: str) -> None:
        """Start installing a catalog variant, warning first when it will not fit."""
        from engine.download.install import make_installer

        model = self.catalog.model(model_id)
        variant = model.variant(variant_id)
        self._last_download = (model_id, variant_id)
        warning = assess(model, variant, self.machine).warning() if self.machine else None
        self.show_message(f"Warning: {warning}" if warning else "", "warning")
        installer = self.installer = make_installer(model, variant, self.store, endpoint=self.endpoint)
        building = variant.source == "convert"
        self._start(lambda state: installer.run(state.progress),
                    f"{'Building' if building else 'Downloading'} {model.name}, {variant.label}",
                    pausable=True, kind="build" if building else "download", what=model.name,
                    on_cancel=installer.pause)  # at quit: what has arrived is kept, as Pause does

    def use_found(self, found) -> None:
        from engine.reuse import use_found

        self.installer = None
        name = found.model or found.path.name
        self._start(lambda state: use_found(found, self.store, progress=lambda d, t: state.progress((d, t))),
                    f"Checking and adding {name}", pausable=False, what=name)

    def _ask_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a model folder")
        if folder:
            self.import_folder(Path(folder))

    def import_folder(self, folder: Path) -> None:
        from engine.download.importer import import_folder

        self.installer = None
        self._start(lambda state: import_folder(folder, self.store, progress=lambda d, t: state.progress((d, t)),
                                                cancelled=lambda: state.cancelled),
                    f"Checking and importing {folder.name}", pausable=False, what=f"Importing {folder.name}")

    def verify_selected(self) -> None:
        sel = self._selected()
        if not sel or sel[0] != "installed":
            return
        name = sel[1]
        installed = self.store.get(name)
        total = installed.disk_bytes if installed else 0
        self.installer = None

        def work(state: TaskState) -> str:
            done = 0

            def step(n: int) -> None:
                nonlocal done
                state.check()  # a Stop ends the check between blocks
                done += n
                state.progress((done, total))
            self.store.verify(name, progress=step)
            return name

        self._start(work, f"Verifying {name}", pausable=False, verb="verified", what=f"Verifying {name}")

    def remove_selected(self) -> None:
        sel = self._selected()
        if not sel or sel[0] != "installed" or sel[1] == DEMO:
            return
        answer = QMessageBox.question(self, "Remove model", f"Delete the model '{sel[1]}' from this computer?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            freed = self.store.remove(sel[1])
        except Exception as exc:  # noqa: BLE001
            self.show_message(user_text(exc), "error")
            return
        self.show_message(f"Removed '{sel[1]}' and freed {_gb(freed)}.")
        self.refresh()

    def pause(self) -> None:
        if self.installer is not None:
            self.installer.pause()

    def cancel(self) -> None:
        if self.installer is not None:
            self.installer.cancel()

    # --- closing during a job ---

    def reject(self) -> None:
        """Close, Esc and the window's close button all come here: during a job, ask first."""
        if self.busy and self.isVisible():
            choice = self.ask_on_close(self._job_kind, self._job_what)
            if choice is CloseChoice.CANCEL:
                return  # stays open (closeEvent sees it still visible and ignores the close)
            if choice is CloseChoice.STOP:
                self._stop_job()
        super().reject()

    def _stop_job(self) -> None:
        if self.installer is not None:
            self.pause()  # a download or a build: what has arrived is kept for the next try
        elif self.job is not None:
            self.job.cancel()

    # --- job plumbing ---

    def _start(self, work: Callable[[TaskState], Any], title: str, *, pausable: bool, what: str,
               verb: str = "installed", kind: str = "other", on_cancel: Callable[[], None] | None = None) -> None:
        self._job_kind, self._job_what = kind, what
        self.job = self.ops.run(work, name=title, on_progress=self._on_progress,
                                on_done=lambda result: self._on_finished(result, verb),
                                on_error=self._on_failed, on_cancelled=self._on_cancelled, on_cancel=on_cancel)
        self.progress_title.setText(title)
        self.progress_bar.setValue(0)
        self.progress_detail.setText("Starting…")
        self.pause_button.setVisible(pausable)
        self.cancel_button.setVisible(pausable)
        self.progress_box.show()
        self._update_buttons()

    def _on_progress(self, report) -> None:
        if isinstance(report, tuple):  # (done, total) from import and verify
            done, total = report
            self.progress_bar.setValue(int(1000 * done / total) if total else 0)
            self.progress_detail.setText(f"{_gb(done)} of {_gb(total)}")
            return
        self.progress_bar.setValue(int(report.fraction * 1000))
        self.progress_detail.setText(report.line()[:1].upper() + report.line()[1:])

    def _on_finished(self, result, verb: str) -> None:
        self.progress_box.hide()
        name = result.name if isinstance(result, Path) else str(result)
        text = f"'{name}' is {verb}."
        if not self.isVisible():  # it went on in the background: tell the main window
            self.notify(text + (" Choose it in File → Models…." if verb == "installed" else ""), "info")
        if verb == "installed":
            text += " Select it and press Use, or double-click it."
        self.show_message(text)
        self.refresh()
        if verb == "installed":
            self.select("installed", name)

    def _on_cancelled(self) -> None:
        self.progress_box.hide()
        self.show_message("Stopped.")
        self.refresh()

    def _on_failed(self, failure: Failure) -> None:
        self.progress_box.hide()
        error = failure.error
        if not self.isVisible() and not isinstance(error, DownloadStopped):
            self.notify(f"{self._job_what}: {failure.text}", "error")
        if isinstance(error, DownloadStopped):
            text = ("Download cancelled; nothing was kept." if error.cancelled
                    else "Paused. Press Download again to resume where it stopped.")
            self.show_message(text)
        else:
            self.show_message(failure.text, "error")
            # Offline or the server unreachable: the partial file is kept, so a retry goes on.
            self.retry_button.setVisible(isinstance(error, HubUnreachableError) and self._last_download is not None)
        self.refresh()

    def _retry(self) -> None:
        if self._last_download is not None:
            self.download(*self._last_download)
