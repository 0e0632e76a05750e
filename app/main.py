"""Builds the window's object graph and runs it on a qasync event loop.

`build_app()` wires everything (tests use it directly); `run_window()` is what `ponder` with no
subcommand calls. Other features add their pieces in `build_app()`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtGui import QActionGroup, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app import texts
from app.chat.chat_view import ChatView
from app.chat.controller import ChatController
from app.errors import user_text
from app.main_window import MainWindow
from app.markdown.math import MathImages
from app.markdown.render import MarkdownRenderer
from app.ops import Ops
from app.qapp import widgets_application
from app.settings_dialog import SettingsDialog
from app.summary.integration import install_summary
from app.theme import Theme, apply_theme, pick_theme, system_is_dark
from engine.assistant import Assistant
from engine.errors import PonderError
from engine.host import Checking, EngineBackend, HostState, LoadFailed, Loading, ModelHost, Ready, Switching
from engine.host.kinds import KindBackend, connection_of, saved_connections
from engine.models import DEMO, default_model
from engine.paths import Paths, demo_model_dir, resources_dir
from engine.remote.service import RemoteLoadResult
from engine.service import INFERENCE_THREAD, InferenceService, LoadResult
from engine.settings import Settings, SettingsStore

if TYPE_CHECKING:
    from app.models.menu import ModelManager
    from app.quick.in_window import WindowQuickActions
    from app.summary.integration import SummaryActions

log = logging.getLogger(__name__)


@dataclass
class PonderApp:
    """The window and everything it uses, built once in build_app()."""

    qapp: QApplication
    paths: Paths
    store: SettingsStore
    settings: Settings
    #: The local model's backend (the inference thread), also while a connection's model is loaded.
    service: EngineBackend
    assistant: Assistant
    controller: ChatController
    math: MathImages
    window: MainWindow
    theme: Theme
    #: Background work off the GUI thread (app/ops): cancelled, all of it, at shutdown.
    ops: Ops
    #: The one owner of the model: every load goes through it (engine/host).
    host: ModelHost
    model_override: str | None = None
    provider_override: str | None = None
    load_task: asyncio.Task[None] | None = None
    #: Click to Do in this process (app/quick/in_window.py): tray, hotkey, single instance.
    quick: WindowQuickActions | None = None
    #: File ▸ Summarize… (app/summary/integration.py) and File → Models… (app/models/menu.py).
    summary_actions: SummaryActions | None = None
    models: ModelManager | None = None
    _closed: asyncio.Future[None] | None = field(default=None, repr=False)
    _switch_notice: bool = field(default=False, repr=False)

    # --- model ---

    def model_spec(self) -> str:
        return self.model_override or self.settings.get("model") or default_model(self.paths)

    def start_loading(self) -> asyncio.Task[None]:
        """Load the model in the background; the window stays usable meanwhile. A newer request
        replaces an older one (the host's generation counter), and while an answer or a summary
        runs the change waits for it to end."""
        self.load_task = asyncio.ensure_future(self.load_model())
        return self.load_task

    async def load_model(self) -> None:
        """Ask the host for the model Settings names; the window follows the host's states."""
        if self._closed is not None and self._closed.done():
            return  # quitting: the engine is closing
        try:
            await self.host.load(self.model_spec(), self.provider_override or self.settings.get("provider"))
        except PonderError:
            pass  # LoadFailed was published and shown

    def _on_host_state(self, state: HostState) -> None:
        """The host's states as the window shows them."""
        if isinstance(state, Switching):
            name = _display_name(state.wanted.spec)
            what = "the summary" if "summary" in state.waiting_for else "the current answer"
            self.window.notice_banner.show_message(f"{name[:1].upper()}{name[1:]} will be loaded when {what} "
                                                   "has finished.", kind="info")
            self._switch_notice = True
        elif isinstance(state, Checking):
            self._hide_switch_notice()
            self.controller.model_loading()
            self.window.status.model_loading(_display_name(state.wanted.spec), checking=state.full)
            self.window.model_banner.hide()
        elif isinstance(state, Loading):
            self.window.status.model_loading(_display_name(state.wanted.spec))
        elif isinstance(state, Ready):
            self.controller.required_system_prompt = bool(state.setup.chat_format.system_prompt)
            self._loaded(state.result)
        elif isinstance(state, LoadFailed):
            self._load_failed(state.error)

    def _hide_switch_notice(self) -> None:
        if self._switch_notice:
            self.window.notice_banner.hide()
            self._switch_notice = False

    def choose_model(self, spec: str) -> None:
        """The model picker's choice: saved as the "model" setting, as Settings does, and loaded
        (after the running answer or summary, if one runs)."""
        if spec != self.settings.get("model"):
            self.remember("model", spec)
            return
        wanted = getattr(self.host.state, "wanted", None)
        if self.model_override is not None or wanted is None or wanted.spec != spec \
                or isinstance(self.host.state, LoadFailed):  # --model won, or it failed: load it (again)
            self.model_override = None
            self.start_loading()

    def _loaded(self, result: LoadResult | RemoteLoadResult) -> None:
        demo = isinstance(result, LoadResult) and result.folder.path == demo_model_dir().resolve()
        self.controller.greedy = demo  # the demo model is reliable only with greedy decoding
        self.controller.model_loaded(result)
        self.window.status.model_loaded(result)
        if demo:
            self.window.model_banner.show_message(texts.DEMO_BANNER, action=texts.GET_A_MODEL_ACTION)
        self.window.chat._refresh_all()

    def _load_failed(self, error: BaseException) -> None:
        text = user_text(error)
        self.controller.model_failed(error if isinstance(error, PonderError) else PonderError(text))
        self.window.status.model_failed(text)
        self.window.model_banner.show_message(f"The model could not be loaded. {text}", kind="error",
                                              action="Settings")

    # --- settings and theme ---

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self.window)
        if dialog.exec() and dialog.result_settings is not None:
            self.apply_settings(dialog.result_settings)

    def apply_settings(self, new: Settings) -> None:
        """Save, then apply: theme and text size at once, a model change by reloading."""
        def changed(*keys: str) -> bool:
            return any(new.get(k) != self.settings.get(k) for k in keys)

        reload, restyle = changed("model", "provider"), changed("theme", "font_size")
        quick = changed("tray", "hotkey")
        try:
            self.store.save(new)
        except OSError as exc:
            self.window.notice_banner.show_message(f"The settings could not be saved: {exc}", kind="error")
        for key in new.schema:
            self.settings.set(key, new.get(key))
        if quick and self.quick is not None:
            self.quick.apply(self.settings)
        if restyle:
            self.refresh_theme()  # re-renders every answer: only when the look changed
        self.window.chat.composer.set_budgets(self.settings.thinking_budgets())
        if reload:
            # A model chosen in Settings wins over --model / --provider from the command line.
            # During an answer or a summary the host loads it once they end (and says so).
            self.model_override = self.provider_override = None
            self.start_loading()

    def remember(self, key: str, value: object) -> None:
        """Change one setting from a menu or control, and save it."""
        updated = self.settings.copy()
        updated.set(key, value)
        self.apply_settings(updated)

    def refresh_theme(self) -> None:
        self.theme = pick_theme(self.settings.get("theme"), system_is_dark(self.qapp))
        apply_theme(self.qapp, self.theme, self.settings.get("font_size"))
        self.math.color = self.theme.markdown.text
        self.math.point_size = _point_size(self.qapp, self.settings)
        self.window.chat.apply_settings(MarkdownRenderer(self.theme.markdown, self.math.lookup))

    # --- life cycle ---

    def show(self) -> None:
        self.window.show()
        self.window.chat.composer.input.setFocus()
        self.window.status.start()

    def bring_to_front(self) -> None:
        """Show the window (hidden to the tray, or behind others) and give it focus."""
        if self.window.isMinimized():
            self.window.showNormal()
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def quit(self) -> None:
        """Quit for good (the tray's Quit, File → Quit): run() returns and shutdown() cleans up."""
        if self.quick is not None:
            self.quick.quitting = True
        self.window.close()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    async def run(self) -> int:
        """Show the window, load the model, and return when the window is closed (or, with the
        tray on, when Quit is chosen)."""
        self._closed = asyncio.get_running_loop().create_future()
        self.window.closing.connect(self._window_closed)
        if self.quick is not None:
            self.quick.start()
        self.show()
        self.start_loading()
        try:
            await self._closed
        finally:
            self.shutdown()
        return 0

    def _window_closed(self) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def shutdown(self) -> None:
        """Stop the running turn, quick actions included, every background operation (a bounded
        wait), and free the model."""
        if self.quick is not None:
            self.quick.close()
        self.controller.stop()
        self.ops.shutdown()
        self.host.close()  # cancels every running turn and summary step, then frees the model


def leave_if_a_load_runs(code: int) -> None:
    """After the window's clean exit: if a model load is still under way (onnxruntime-genai
    cannot stop one, and the interpreter would wait for it, tens of seconds for a large model),
    end the process now. Everything of Ponder's is saved by then and the run record removed."""
    import os
    import threading

    if not any(t.name.startswith(INFERENCE_THREAD) and t.is_alive() for t in threading.enumerate()):
        return
    log.info("a model load was still running at quit; not waiting for it")
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _display_name(spec: str) -> str:
    if spec == DEMO:
        return "the demo model"
    name = connection_of(spec)
    return f"the model of {name}" if name is not None else spec


def _point_size(qapp: QApplication, settings: Settings) -> float:
    size = settings.get("font_size")
    return float(size) if size > 0 else float(qapp.font().pointSizeF() or 10)


def build_app(qapp: QApplication, paths: Paths, *, model: str | None = None,
              provider: str | None = None, service: InferenceService | None = None,
              host: ModelHost | None = None) -> PonderApp:
    """The whole object graph of the window (not shown yet, nothing loaded yet). A given host
    (the quick-action process's) is shared: the window then uses its model."""
    store = SettingsStore(paths.settings_file)
    loaded = store.load()
    settings = loaded.settings
    theme = pick_theme(settings.get("theme"), system_is_dark(qapp))
    apply_theme(qapp, theme, settings.get("font_size"))
    if host is None:  # local models on the inference thread, "remote:NAME" on a saved connection
        host = ModelHost(KindBackend(service or InferenceService(paths=paths), saved_connections(paths)),
                         paths=paths)
    backend, assistant = host.backend, host.assistant
    local = backend.local if isinstance(backend, KindBackend) else backend
    controller = ChatController(assistant, settings)
    ops = Ops()  # its failures without a handler go to the notice banner (set below)
    math = MathImages(color=theme.markdown.text, point_size=_point_size(qapp, settings),
                      scale=qapp.devicePixelRatio() if hasattr(qapp, "devicePixelRatio") else 1.0, ops=ops)
    chat = ChatView(controller, settings, MarkdownRenderer(theme.markdown, math.lookup), math)
    window = MainWindow(chat)
    ops.report = lambda text: window.notice_banner.show_message(text, kind="error")
    app = PonderApp(qapp, paths, store, settings, local, assistant, controller, math, window, theme, ops,
                    host=host, model_override=model, provider_override=provider)
    host.subscribe(app._on_host_state)
    window.settings_action.triggered.connect(app.open_settings)
    window.model_banner.action_triggered.connect(lambda: _banner_action(app))
    _add_view_menu(app)
    chat.composer.effort_changed.connect(lambda effort: app.remember("effort", effort))
    help_action = window.add_action("Help", "Getting a &model…", None, lambda: _show_model_help(window))
    help_action.setObjectName("modelHelpAction")
    window.add_action("Help", "&About Ponder", None,
                      lambda: QMessageBox.about(window, "About Ponder", texts.ABOUT))
    qapp.styleHints().colorSchemeChanged.connect(lambda _scheme: app.refresh_theme())
    app.summary_actions = install_summary(app)
    if loaded.corrupt_copy is not None:
        window.notice_banner.show_message(texts.SETTINGS_CORRUPT.format(path=loaded.corrupt_copy),
                                          kind="warning")
    # Conversation history (app/history): the sidebar, and chats saved as they stream.
    from app.history.panel import attach_history

    history = attach_history(window, controller, paths, ops, host)
    # The model manager (app/models): File → Models…
    from app.models.menu import attach_model_manager

    app.models = attach_model_manager(app)
    # Click to Do (app/quick) on this window's model: tray, global hotkey, hand-overs.
    from app.quick.in_window import attach_quick_actions

    attach_quick_actions(app)
    # The local OpenAI-compatible API (app/api_settings.py): File → Local API…, off by default.
    from app.api_settings import attach_local_api

    attach_local_api(app, history=history)
    # Remote engines (app/connections_dialog.py): File → Connections…
    from app.connections_dialog import attach_connections

    attach_connections(app)
    # The model picker at the top of the chat (app/chat/model_picker.py).
    from app.chat.model_picker import attach_model_picker

    attach_model_picker(app)
    window.quit_action.triggered.disconnect()
    window.quit_action.triggered.connect(app.quit)
    return app


THEME_CHOICES = (("system", "Theme: follow the &system"), ("light", "Theme: &light"), ("dark", "Theme: &dark"))


def _add_view_menu(app: PonderApp) -> None:
    """View: thinking pane default and theme, both settings."""
    window = app.window
    expanded = window.add_action("View", "Show &thinking expanded", None)
    expanded.setCheckable(True)
    expanded.setChecked(app.settings.get("thinking_expanded"))
    expanded.toggled.connect(lambda on: app.remember("thinking_expanded", on))
    window.menu("View").addSeparator()
    themes = QActionGroup(window)
    for key, label in THEME_CHOICES:
        action = window.add_action("View", label, None)
        action.setCheckable(True)
        action.setChecked(app.settings.get("theme") == key)
        action.triggered.connect(lambda _on=False, key=key: app.remember("theme", key))
        themes.addAction(action)

    def sync() -> None:  # the Settings dialog changes the same settings: show them as they are now
        expanded.setChecked(app.settings.get("thinking_expanded"))
        for action in themes.actions():
            action.setChecked(action.data() == app.settings.get("theme"))

    for action, (key, _label) in zip(themes.actions(), THEME_CHOICES):
        action.setData(key)
    window.menu("View").aboutToShow.connect(sync)


def _banner_action(app: PonderApp) -> None:
    if app.controller.model is None:
        app.open_settings()
        return
    from app.models.menu import open_model_manager

    open_model_manager(app)  # File → Models…: download or pick a real model


def _show_model_help(parent) -> None:
    QMessageBox.information(parent, texts.GET_A_MODEL_TITLE, texts.GET_A_MODEL)


def run_window(args: argparse.Namespace, paths: Paths) -> int:
    """`ponder` with no subcommand: the chat window on a qasync loop."""
    import qasync

    from app.crash import install_excepthook

    qapp = widgets_application()
    qapp.setApplicationName("Ponder")
    qapp.setApplicationDisplayName("Ponder")
    qapp.setDesktopFileName("ponder")
    qapp.setWindowIcon(QIcon(str(resources_dir() / "icons" / "ponder.svg")))
    qapp.setQuitOnLastWindowClosed(False)  # the window's closing ends run(); a tray may keep it alive
    install_excepthook()
    paths.ensure()
    from app.quick.instance import OPEN_CHAT
    from engine.quick_actions.handoff import hand_over
    from engine.quick_actions.request import QuickRequest

    # A Ponder is already running (in the tray, or a window): show that one instead of a second model.
    if hand_over(paths, QuickRequest(source="clipboard", action=OPEN_CHAT)):
        return 0
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    app = build_app(qapp, paths, model=getattr(args, "model", None), provider=getattr(args, "provider", None))
    from app.unix_signals import QuitOnSignals

    signals = QuitOnSignals(app.quit)  # a logout's SIGTERM quits like File → Quit
    try:
        with loop:
            return loop.run_until_complete(app.run())
    finally:
        signals.close()
