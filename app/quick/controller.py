"""Click to Do's flow: capture → (popup) → result window. Built once, fed requests from the tray,
the hotkey and hand-overs from other `ponder act` processes."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication, QImage

from app.errors import user_text
from app.markdown.render import MarkdownRenderer
from app.ops import Ops
from app.quick.copy_selection import CopyKeys, copy_selection, platform_keys
from app.quick.overlay import RegionOverlay, image_to_rgb
from app.quick.popup import ActionPopup
from app.quick.result import ResultWindow
from app.quick.paste import can_paste_back, paste_back
from engine.assistant import Assistant
from engine.capture.errors import CaptureError
from engine.capture.ocr import OcrEngine
from engine.errors import BadRequestError, PonderError
from engine.quick_actions.actions import action_by_key
from engine.quick_actions.prompt import build_prompt
from engine.quick_actions.request import QuickRequest
from engine.quick_actions.special_tokens import markers_for
from engine.request import Sampling

log = logging.getLogger(__name__)


class QuickController(QObject):
    """Runs quick actions.

    Signals:
        message(str): something to tell the user outside a window (the tray shows it).
        popup_shown(object), result_shown(object): for tests and the tray.
    """

    message = Signal(str)
    popup_shown = Signal(object)
    result_shown = Signal(object)

    def __init__(self, assistant: Assistant, *, renderer: Callable[[], MarkdownRenderer],
                 model_ready: Callable[[], Awaitable[Path | None]], ocr: OcrEngine | None = None,
                 open_chat: Callable[[str, str], None] | None = None,
                 sampling: Callable[[], Sampling] | None = None,
                 copy_keys: Callable[[], CopyKeys | None] = platform_keys, ops: Ops | None = None,
                 parent: QObject | None = None) -> None:
        """ops: the app's background operations (OCR runs there); without it (the quick-action
        process, tests) the controller keeps its own and stops it in close()."""
        super().__init__(parent)
        self._own_ops = ops is None
        self.ops = ops if ops is not None else Ops(parent=self)
        self._copy_keys = copy_keys
        self.assistant = assistant
        self._renderer = renderer
        self._model_ready = model_ready
        self.ocr = ocr or OcrEngine()
        self._open_chat = open_chat
        #: The search options of the model in use (the window's settings; greedy for the demo).
        self._sampling = sampling
        self._tasks: set[asyncio.Task[None]] = set()
        self.windows: list[ResultWindow] = []

    def handle(self, request: QuickRequest) -> asyncio.Task[None]:
        """Start a request (keeps a reference so the task is not collected)."""
        task = asyncio.ensure_future(self._handle(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _handle(self, request: QuickRequest) -> None:
        try:
            text = request.text if request.text is not None else await self.capture(request.source)
            if not (text or "").strip():
                raise BadRequestError(empty_message(request.source))
            if request.action:
                action_by_key(request.action)
                self.run_action(request.action, text, request.question, request.language, request.source)
            else:
                self.show_popup(text, request.source)
        except PonderError as exc:
            self.message.emit(user_text(exc))
        except Exception as exc:  # noqa: BLE001 - never a traceback for the user
            log.exception("quick action failed")
            self.message.emit(user_text(exc))

    # --- capture ---

    async def capture(self, source: str) -> str:
        """Text from the selection, the clipboard, or OCR of a region the user drags."""
        clipboard = QGuiApplication.clipboard()
        if source == "selection":
            if clipboard.supportsSelection():
                return clipboard.text(QClipboard.Mode.Selection)
            keys = self._copy_keys()  # Windows, macOS: copy it from the focused app
            if keys is None:
                raise CaptureError("This system has no separate 'current selection'. Copy the text and use "
                                   "'Quick action on clipboard'.")
            return await copy_selection(clipboard, keys)
        if source == "clipboard":
            return clipboard.text(QClipboard.Mode.Clipboard)
        if source == "region":
            image = await self.pick_region()
            if image is None:
                return ""
            self.ocr.prepare()  # its import writes os.environ: here, not on the worker thread
            result = await self.ops.call(self.ocr.recognise, image_to_rgb(image), name="read the screen region")
            log.info("OCR read %d lines in %.2f s", len(result.lines), result.seconds)
            return result.text
        raise CaptureError(f"The source '{source}' cannot be used from the window.")

    async def pick_region(self, overlay: RegionOverlay | None = None) -> QImage | None:
        """Show the overlay and wait for a rectangle (None if cancelled)."""
        future: asyncio.Future[QImage | None] = asyncio.get_running_loop().create_future()
        overlay = overlay or RegionOverlay()
        overlay.selected.connect(lambda image: _settle(future, image))
        overlay.cancelled.connect(lambda: _settle(future, None))
        self.overlay = overlay
        overlay.open()
        return await future

    # --- popup and result ---

    def show_popup(self, text: str, source: str) -> ActionPopup:
        popup = ActionPopup(text)
        popup.chosen.connect(lambda key, q, lang: self.run_action(key, text, q, lang, source))
        popup.show_near()
        self.popup = popup
        self.popup_shown.emit(popup)
        return popup

    def run_action(self, key: str, text: str, question: str, language: str, source: str) -> ResultWindow:
        action = action_by_key(key)
        window = ResultWindow(action.label, self._renderer(), can_replace=can_paste_back(source))
        window.replace_requested.connect(lambda answer: self._replace(window, answer))
        window.continue_requested.connect(lambda q, a: self._continue(window, text, action.label, a))
        window.destroyed.connect(lambda *_: self.windows.remove(window) if window in self.windows else None)
        self.windows.append(window)
        window.show()
        window.raise_()
        window.activateWindow()
        self.result_shown.emit(window)

        async def prepared():
            folder = await self._model_ready()
            return folder

        async def start() -> None:
            try:
                folder = await prepared()
                prompt = build_prompt(action, text, markers=markers_for(folder, text), question=question,
                                      language=language,
                                      sampling=self._sampling() if self._sampling is not None else None)
            except Exception as exc:  # noqa: BLE001 - shown in the window
                window.reply.fail(exc)
                window._render()
                window.finished.emit()
                return
            window.start(self.assistant, prompt)

        task = asyncio.ensure_future(start())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return window

    def _replace(self, window: ResultWindow, answer: str) -> None:
        window.hide()
        # Let the window manager give focus back to where the text was before pasting.
        QTimer.singleShot(250, lambda: self._paste(window, answer))

    def _paste(self, window: ResultWindow, answer: str) -> None:
        try:
            paste_back(answer)
        except CaptureError as exc:
            window.show()
            window.status.setText(exc.user_message())
            return
        window.close()

    def _continue(self, window: ResultWindow, text: str, label: str, answer: str) -> None:
        if self._open_chat is None:
            window.status.setText("The chat window is not available here.")
            return
        excerpt = " ".join(text.split())
        try:
            self._open_chat(f"{label}: “{excerpt[:400]}{'…' if len(excerpt) > 400 else ''}”", answer)
        except PonderError as exc:
            window.status.setText(user_text(exc))
            return
        window.close()

    def close(self) -> None:
        """Close every quick window and stop their work (quit)."""
        popup = getattr(self, "popup", None)
        if popup is not None:
            try:
                popup.close()
            except RuntimeError:
                pass  # already deleted
        for window in list(self.windows):
            window.close()
        for task in list(self._tasks):
            task.cancel()
        if self._own_ops:
            self.ops.shutdown()


_EMPTY = {
    "selection": "Nothing is selected. Select some text first, then try again.",
    "clipboard": "The clipboard holds no text. Copy some text first, then try again.",
    "region": "No text was found in that part of the screen.",
}
#: macOS hands an app without the Screen Recording permission a picture of the wallpaper alone.
SCREEN_RECORDING = (" On macOS, Ponder needs the Screen Recording permission to read the screen: System "
                    "Settings › Privacy & Security › Screen Recording.")


def empty_message(source: str, platform: str | None = None) -> str:
    """What to tell the user when the source gave no text."""
    text = _EMPTY.get(source, "There is no text to work on.")
    if source == "region" and (platform or sys.platform) == "darwin":
        text += SCREEN_RECORDING
    return text


def _settle(future: asyncio.Future[QImage | None], image: QImage | None) -> None:
    """The overlay's first answer wins; a later signal finds the future done."""
    if not future.done():
        future.set_result(image)
