"""The model picker at the top of the chat: every model Ponder can run (the demo, each installed
model, each saved connection's model), where it runs, and what the engine host is doing with it.

It renders the host's typed states (engine/host/states.py) and nothing else: the state text of
an entry comes from the newest state and the model loaded now. Choosing an entry emits
`chosen(spec)`; app/main.py saves it as the "model" setting and asks the host to switch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolButton, QWidget

from app.chat.model_choices import LOCAL, PickerEntry, display_name, model_entries, state_text
from engine.host import Checking, Closed, HostState, Idle, Loading, Ready, Switching
from engine.host.kinds import connection_of
from engine.models import DEMO

#: The widest the button's text grows (cut to fit; the full text is its tooltip).
MAX_TEXT_PX = 400


class ModelPicker(QToolButton):
    """objectName modelPicker. A button naming the model in use, where it runs and its state;
    its menu lists every model with the same, and choosing one emits `chosen(spec)`.

    `entries` is called each time the menu opens, so a model installed or a connection added
    meanwhile is listed.
    """

    chosen = Signal(str)

    def __init__(self, entries: Callable[[], list[PickerEntry]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPicker")
        self.setAccessibleName("Model")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAutoRaise(True)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self._entries = entries
        self._state: HostState = Idle()
        self._ready: Ready | None = None
        self._footer: list[QAction] = []
        self.menu_ = QMenu(self)
        self.menu_.setObjectName("modelPickerMenu")
        self.menu_.aboutToShow.connect(self._fill)
        self.setMenu(self.menu_)
        self._group = QActionGroup(self)
        # A load reports no progress (onnxruntime-genai's loader is one call): show how long it runs.
        self._since: float | None = None
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._show)
        self._show()

    # --- input ---

    def show_state(self, state: HostState, ready: Ready | None) -> None:
        """The host published `state`; `ready` is the model loaded now (host.ready)."""
        busy = isinstance(state, (Checking, Loading))
        if not busy:
            self._since = None
            self._clock.stop()
        elif self._since is None or state.generation != self._state.generation:
            self._since = time.monotonic()
            self._clock.start()
        self._state, self._ready = state, ready
        self._show()

    def add_footer_action(self, action: QAction) -> None:
        """An action under the list (e.g. Connections…, Models…)."""
        self._footer.append(action)

    # --- what is shown ---

    @property
    def current_spec(self) -> str | None:
        """The model in use or being loaded (a switch that waits shows the one still in use)."""
        if isinstance(self._state, Switching) and self._ready is not None:
            return self._ready.wanted.spec
        wanted = getattr(self._state, "wanted", None)
        if wanted is not None:
            return wanted.spec
        return self._ready.wanted.spec if self._ready is not None else None

    def summary(self) -> str:
        """The button's full text: model · where it runs · state (and a switch that waits)."""
        spec = self.current_spec
        if spec is None:
            return "No model loaded" if isinstance(self._state, Closed) else "Choosing a model…"
        name, rest = self._parts(spec)
        return name + rest

    def _parts(self, spec: str, reason_chars: int | None = None) -> tuple[str, str]:
        """The model's name, and the rest: where it runs, its state or the switch that waits."""
        state = state_text(spec, self._state, self._ready, reason_chars=reason_chars)
        name, where = self._entry(spec, short=True)
        if self._since is not None and getattr(self._state, "wanted", None) is not None \
                and self._state.wanted.spec == spec:  # type: ignore[union-attr]
            seconds = int(time.monotonic() - self._since)
            state += f" {seconds} s" if seconds >= 1 else ""
        if isinstance(self._state, Switching) and self._state.wanted.spec != spec:
            what = "the summary" if "summary" in self._state.waiting_for else "this answer"
            return name, f" · {where} → {self._entry(self._state.wanted.spec)[0]} after {what}"
        return name, f" · {where} · {state}"

    def _show(self) -> None:
        full = self.summary()
        spec = self.current_spec
        self.setText(self._fitted(spec, full) + "  ▾")
        spec_where = self._entry(spec)[1] if spec is not None else ""
        self.setToolTip(f"{full}\n{spec_where}\nClick to choose another model." if spec_where.startswith("remote")
                        else f"{full}\nClick to choose another model.")
        self.setProperty("remote", spec is not None and connection_of(spec) is not None)
        self.style().unpolish(self)
        self.style().polish(self)

    def _fitted(self, spec: str | None, full: str) -> str:
        """The button's text within MAX_TEXT_PX. Where the model runs and what it does stay
        readable: a failure's reason is cut first (the banner and the tooltip give it whole),
        then a long model name in its middle."""
        metrics = self.fontMetrics()
        if spec is None:
            return metrics.elidedText(full, Qt.TextElideMode.ElideRight, MAX_TEXT_PX)
        name, rest = self._parts(spec, reason_chars=24)
        if metrics.horizontalAdvance(name + rest) > MAX_TEXT_PX:
            name, rest = self._parts(spec, reason_chars=0)
        room = MAX_TEXT_PX - metrics.horizontalAdvance(rest)
        if room < metrics.horizontalAdvance("MMMMMM"):  # the rest alone is too long: cut its end
            return metrics.elidedText(name + rest, Qt.TextElideMode.ElideRight, MAX_TEXT_PX)
        return metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, room) + rest

    def _entry(self, spec: str, *, short: bool = False) -> tuple[str, str]:
        """(name, where it runs) of spec: as the list names it, or as the loaded model says."""
        for entry in self._safe_entries():
            if entry.spec == spec:
                return entry.name, (entry.short_where or entry.where) if short else entry.where
        result = self._ready.result if self._ready is not None and self._ready.wanted.spec == spec else None
        endpoint = getattr(result, "endpoint", None)  # a RemoteLoadResult (a connection removed since)
        if endpoint is not None:
            return endpoint.model, getattr(result, "where", f"remote: {endpoint.label}")
        name = connection_of(spec)
        return display_name(spec), (f"remote: {name}" if name is not None else LOCAL)

    def _safe_entries(self) -> list[PickerEntry]:
        try:
            return self._entries()
        except Exception:  # noqa: BLE001 - an unreadable list must not break the window; the demo stays
            return [PickerEntry(DEMO, display_name(DEMO), LOCAL)]

    def _fill(self) -> None:
        self.menu_.clear()
        for action in self._group.actions():
            self._group.removeAction(action)
        current = self.current_spec
        pending = self._state.wanted.spec if isinstance(self._state, Switching) else None
        entries = self._safe_entries()
        if current is not None and all(e.spec != current for e in entries):
            entries.append(PickerEntry(current, *self._entry(current)))
        for entry in entries:
            state = state_text(entry.spec, self._state, self._ready, reason_chars=48)
            action = QAction(f"{entry.name}\t{entry.where} · {state}", self.menu_)
            action.setCheckable(True)
            action.setChecked(entry.spec == (pending or current))
            action.setData(entry.spec)
            action.setToolTip(f"{entry.name}: {entry.where}, {state}")
            action.triggered.connect(lambda _on=False, spec=entry.spec: self.chosen.emit(spec))
            self._group.addAction(action)
            self.menu_.addAction(action)
        if self._footer:
            self.menu_.addSeparator()
            for action in self._footer:
                self.menu_.addAction(action)

    def action_for(self, spec: str) -> QAction | None:
        """The menu's entry for spec (while the menu is filled)."""
        return next((a for a in self.menu_.actions() if a.data() == spec), None)


def attach_model_picker(app) -> ModelPicker:
    """Put the picker in the window's top bar, following the app's host (app/main.py PonderApp)."""
    from engine.models import installed_models
    from engine.remote.connections import ConnectionStore

    store = ConnectionStore.for_paths(app.paths)

    def entries() -> list[PickerEntry]:
        return model_entries((f.name for f in installed_models(app.paths)), store.list())

    picker = ModelPicker(entries, app.window)
    for name in ("connectionsAction", "modelManagerAction"):
        action = app.window.findChild(QAction, name)
        if action is not None:
            picker.add_footer_action(action)
    app.window.add_to_top_bar(picker)
    choose = app.window.add_action("View", "Choose a &model…", QKeySequence("Ctrl+L"), picker.showMenu)
    choose.setObjectName("chooseModelAction")
    app.host.subscribe(lambda state: picker.show_state(state, app.host.ready))
    picker.show_state(app.host.state, app.host.ready)
    picker.chosen.connect(app.choose_model)
    app.window.model_picker = picker
    return picker
