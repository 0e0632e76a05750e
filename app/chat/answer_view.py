"""An answer rendered as Markdown in a QTextBrowser that grows to fit its text.

While the answer streams, it is re-rendered at most every RENDER_INTERVAL_MS; the final text
is rendered at once. Math images arrive later from MathImages and trigger one more render.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QUrl, Qt, QTimer, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QTextDocument
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from app.markdown.math import MathImages
from app.markdown.render import COPY_SCHEME, MATH_SCHEME, MarkdownRenderer

RENDER_INTERVAL_MS = 100


class AnswerView(QTextBrowser):
    """Read-only rich text that sizes itself to its content (the message list scrolls).

    Signals:
        code_copied(str): a code block's Copy link was used.
    """

    code_copied = Signal(str)

    def __init__(self, renderer: MarkdownRenderer, math: MathImages | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answerView")
        self.setAccessibleName("Answer")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setOpenLinks(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.anchorClicked.connect(self._on_anchor)
        self.document().documentLayout().documentSizeChanged.connect(lambda _: self._fit_height())
        self._renderer = renderer
        self._math = math
        self._markdown = ""
        self._rendered_markdown: str | None = None
        self._code_blocks: list[str] = []
        self._last_render = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._render_now)
        if math is not None:
            math.add_listener(self._on_math_ready)
            self.destroyed.connect(lambda *_: math.remove_listener(self._on_math_ready))
        self._fit_height()

    @property
    def markdown(self) -> str:
        return self._markdown

    def set_markdown(self, text: str, *, final: bool) -> None:
        """Show text; while streaming (final=False) renders are throttled."""
        self._markdown = text
        if final:
            self._timer.stop()
            self._render_now()
            return
        wait_ms = RENDER_INTERVAL_MS - (time.monotonic() - self._last_render) * 1000
        if wait_ms <= 0:
            self._render_now()
        elif not self._timer.isActive():
            self._timer.start(int(wait_ms))

    def set_renderer(self, renderer: MarkdownRenderer) -> None:
        """A new theme: render again with its colours."""
        self._renderer = renderer
        self._rendered_markdown = None
        self._render_now()

    def _render_now(self) -> None:
        self._last_render = time.monotonic()
        if self._markdown == self._rendered_markdown:
            return
        rendered = self._renderer.render(self._markdown)
        document = self.document()
        for key, image in rendered.images.items():
            qimage = QImage.fromData(image.png, "PNG")  # type: ignore[arg-type]  # stubs say bytes; PySide6 6.11 wants str
            ratio = max(1.0, qimage.width() / image.width)
            qimage.setDevicePixelRatio(ratio)
            document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"{MATH_SCHEME}:{key}"), qimage)
        self._code_blocks = rendered.code_blocks
        bar = self.horizontalScrollBar().value()
        self.setHtml(rendered.html)
        self.horizontalScrollBar().setValue(bar)
        self._rendered_markdown = self._markdown

    def _on_math_ready(self) -> None:
        if any(marker in self._markdown for marker in ("$", "\\(", "\\[")):
            self._rendered_markdown = None
            self.set_markdown(self._markdown, final=not self._timer.isActive())

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == COPY_SCHEME:
            try:
                code = self._code_blocks[int(url.path())]
            except (ValueError, IndexError):
                return
            QGuiApplication.clipboard().setText(code)
            self.code_copied.emit(code)
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)  # the user clicked it; nothing is fetched otherwise

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        document = self.document()
        document.setTextWidth(self.viewport().width())
        height = int(document.size().height()) + 2 * self.frameWidth() + 2
        if self.height() != height:
            self.setFixedHeight(height)

    def sizeHint(self):  # noqa: D102 - Qt override
        hint = super().sizeHint()
        hint.setHeight(int(self.document().size().height()) + 2)
        return hint
