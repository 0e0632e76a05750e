"""Per-chat settings: extra instructions and sampling for this chat only, in a side panel.

They override the app's settings for the chat's turns and end with the chat (New chat, or
opening another); they are not saved with the conversation yet.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.settings import Settings

#: The settings a chat may override, as the controller reads them.
KEYS = ("system_prompt", "temperature", "top_p")


class ChatSettingsPanel(QFrame):
    """Edits `overrides` (a dict the controller reads for each turn); empty means the defaults."""

    def __init__(self, settings: Settings, overrides: Callable[[], dict], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatSettings")
        self.setMinimumWidth(220)
        self.setMaximumWidth(300)
        self._settings, self._overrides = settings, overrides
        title = QLabel("This chat", self)
        title.setObjectName("chatSettingsTitle")
        note = QLabel("Used for this chat's next answers, instead of the defaults in Settings.", self)
        note.setWordWrap(True)
        note.setObjectName("settingHint")
        self.instructions = QPlainTextEdit(self)
        self.instructions.setObjectName("chatInstructions")
        self.instructions.setAccessibleName("Extra instructions for this chat")
        self.instructions.setFixedHeight(90)
        self.temperature = self._spin("chatTemperature", 0.05, 2.0)  # the engine refuses 0
        self.top_p = self._spin("chatTopP", 0.05, 1.0)
        self.reset_button = QPushButton("Use the defaults", self)
        self.reset_button.setObjectName("chatSettingsReset")
        self.reset_button.clicked.connect(self.reset)
        form = QFormLayout()
        form.addRow("Instructions", self.instructions)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(title)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.instructions.textChanged.connect(lambda: self._set("system_prompt", self.instructions.toPlainText()))
        self.temperature.valueChanged.connect(lambda v: self._set("temperature", round(v, 2)))
        self.top_p.valueChanged.connect(lambda v: self._set("top_p", round(v, 2)))
        self.load()

    def load(self) -> None:
        """Show this chat's values (the defaults where it has none)."""
        values = {key: self._overrides().get(key, self._settings.get(key)) for key in KEYS}
        self._loading = True
        self.instructions.setPlainText(values["system_prompt"])
        self.temperature.setValue(values["temperature"])
        self.top_p.setValue(values["top_p"])
        self._loading = False

    def reset(self) -> None:
        self._overrides().clear()
        self.load()

    def _set(self, key: str, value: object) -> None:
        if self._loading:
            return
        overrides = self._overrides()
        if value == self._settings.get(key):
            overrides.pop(key, None)
        else:
            overrides[key] = value

    def _spin(self, name: str, low: float, high: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        return spin
