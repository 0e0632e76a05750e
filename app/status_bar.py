"""The status bar: model, provider (and why a better one was not used), speed, CPU and RAM."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from engine.events import Stats
from engine.memory import size_text
from engine.remote.service import RemoteLoadResult
from engine.service import LoadResult

if TYPE_CHECKING:
    import psutil  # start() imports it at run time

RESOURCE_INTERVAL_MS = 1000


class StatusBar(QStatusBar):
    """Permanent labels, updated from LoadResult and Stats; CPU/RAM refresh every second."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.setSizeGripEnabled(False)
        self.model = self._label("statusModel", "Model")
        self.provider = self._label("statusProvider", "Provider")
        self.speed = self._label("statusSpeed", "Speed")
        self.resources = self._label("statusResources", "CPU and memory use")
        for label in (self.model, self.provider):
            self.addWidget(label)
        self.addPermanentWidget(self.speed)
        self.addPermanentWidget(self.resources)
        self.model.setText("Loading model…")
        self._process: psutil.Process | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(RESOURCE_INTERVAL_MS)
        self._timer.timeout.connect(self._update_resources)

    def start(self) -> None:
        """Begin sampling CPU and RAM (psutil)."""
        import psutil

        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first call only starts the measurement
        self._update_resources()
        self._timer.start()

    def model_loading(self, name: str, *, checking: bool = False) -> None:
        """checking: every file is hashed first (after an unclean shutdown), which takes a while."""
        self.model.setText(f"Checking {name}'s files, then loading it…" if checking else f"Loading {name}…")
        self.provider.setText("")
        self.provider.setToolTip("")

    def model_loaded(self, result: LoadResult | RemoteLoadResult) -> None:
        if isinstance(result, RemoteLoadResult):  # say where it runs
            self.model.setText(result.endpoint.model)
            self.model.setToolTip(result.summary)
            self.provider.setText(result.where)
            self.provider.setToolTip(f"Your prompts go to {result.endpoint.base_url}")
            return
        self.model.setText(result.folder.name)
        self.model.setToolTip(str(result.folder.path))
        self.provider.setText(result.summary)
        tried = [f"{r.candidate.label}: {r.reason}" for r in result.rejected]
        self.provider.setToolTip("Not used:\n" + "\n".join(tried) if tried else result.summary)

    def model_failed(self, text: str) -> None:
        self.model.setText("No model loaded")
        self.model.setToolTip(text)
        self.provider.setText("")

    def clear_speed(self) -> None:
        """A new turn starts: the last answer's speed would read as this one's."""
        self.speed.setText("")

    def show_stats(self, stats: Stats) -> None:
        parts = []
        if stats.prompt_tokens:
            # How much of the conversation was read again: a follow-up should compute only itself.
            parts.append(f"prompt {stats.prompt_tokens:,} tokens ({stats.cached_prompt_tokens:,} cached)")
        if stats.time_to_first_token_s is not None:
            parts.append(f"first token {stats.time_to_first_token_s:.2f} s")
        if stats.decode_tokens_per_s:
            parts.append(f"{stats.decode_tokens_per_s:.1f} tok/s")
        if stats.kv_reserved_bytes is not None:
            parts.append(f"KV {size_text(stats.kv_reserved_bytes)}")
            self.speed.setToolTip("KV: the memory this conversation's cache reserves (it follows the "
                                  "conversation's need and the effort, within the memory that is free).")
        self.speed.setText(" · ".join(parts))

    def _update_resources(self) -> None:
        if self._process is None:
            return
        try:
            cpu = self._process.cpu_percent(None)
            rss = self._process.memory_info().rss
        except Exception:  # noqa: BLE001 - psutil can fail on odd platforms; the label just goes blank
            self.resources.setText("")
            return
        self.resources.setText(f"CPU {cpu:.0f}% · RAM {rss / 2**20:,.0f} MB")

    def _label(self, name: str, accessible: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        return label
