"""The region overlay: a full-screen picture of the screen where the user drags a rectangle."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import QWidget

MIN_SIZE = 6


class RegionOverlay(QWidget):
    """Shows a frozen grab of the screen under the cursor; dragging picks a region. Esc cancels.

    Signals:
        selected(QImage): the chosen part of the grab, at the screen's full resolution.
        cancelled(): the user pressed Esc or made no rectangle.
    """

    selected = Signal(QImage)
    cancelled = Signal()

    def __init__(self, grab: QPixmap | None = None) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.Tool)
        self.setObjectName("regionOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setCursor(Qt.CursorShape.CrossCursor)
        screen = QGuiApplication.screenAt(self.cursor().pos()) or QGuiApplication.primaryScreen()
        self._grab = grab if grab is not None else screen.grabWindow(0)
        self.setGeometry(screen.geometry())
        self._origin: QPoint | None = None
        self._rect = QRect()
        self._done = False
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._cancel)

    def open(self) -> None:
        self.showFullScreen()
        self.raise_()
        self.activateWindow()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.drawPixmap(self.rect(), self._grab)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 110))
        if not self._rect.isNull():
            source = self._source_rect(self._rect)
            painter.drawPixmap(self._rect, self._grab, source)
            painter.setPen(QPen(QColor(80, 160, 255), 2))
            painter.drawRect(self._rect)
        else:
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Drag over the text to read. Esc cancels.")

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._origin = event.position().toPoint()
            self._rect = QRect(self._origin, self._origin)
            self.update()
        else:
            self._cancel()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._origin is not None:
            self._rect = QRect(self._origin, event.position().toPoint()).normalized()
            self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._origin is None:
            return
        self._rect = QRect(self._origin, event.position().toPoint()).normalized()
        self._origin = None
        if self._rect.width() < MIN_SIZE or self._rect.height() < MIN_SIZE:
            self._rect = QRect()
            self.update()
            return
        self.select(self._rect)

    def select(self, rect: QRect) -> None:
        """Finish with rect (widget coordinates)."""
        image = self._grab.copy(self._source_rect(rect)).toImage()
        self._done = True
        self.close()
        self.selected.emit(image)

    def _source_rect(self, rect: QRect) -> QRect:
        # The grab has device pixels; the widget logical ones.
        sx = self._grab.width() / max(1, self.width())
        sy = self._grab.height() / max(1, self.height())
        return QRect(int(rect.x() * sx), int(rect.y() * sy), int(rect.width() * sx), int(rect.height() * sy))

    def _cancel(self) -> None:
        self._done = True
        self.close()
        self.cancelled.emit()

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self._done:
            self._done = True
            self.cancelled.emit()
        super().closeEvent(event)


def image_to_rgb(image: QImage):
    """A QImage as an H×W×3 uint8 RGB numpy array (what the OCR reads)."""
    import numpy as np

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(rgb.constBits(), dtype=np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    return array[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).copy()
