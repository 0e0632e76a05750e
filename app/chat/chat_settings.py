"""Per-chat settings: extra instructions and sampling for this chat only, in a side panel.

They override the app's settings for the chat's turns and are saved with the chat (with its
effort, chosen next to Send), so a reopened chat answers as it did. A new chat starts from the
defaults.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
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

from app.chat.controller import ChatController
from engine.settings import Settings

#: The settings a chat may override (fields of engine.history.records.ChatSettings).
KEYS = ("system_prompt", "temperature", "top_p")
#: Typed instructions are saved once typing pauses this long (every change applies at once).
SAVE_DELAY_MS = 600

REQUIRED_PROMPT_NOTE = ("This model's card requires its own system prompt, so these instructions are "
                        "added after it; the model may follow them less closely.")


class ChatSettingsPanel(QFrame):
    """Edits the controller's `own` settings; a value equal to the app's setting is not kept."""

    def __init__(self, settings: Settings, controller: ChatController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatSettings")
        self.setMinimumWidth(220)
        self.setMaximumWidth(300)
        self._settings, self._controller = settings, controller
        self._loading = False
        title = QLabel("This chat", self)
        title.setObjectName("chatSettingsTitle")
        note = QLabel("Used for this chat's answers instead of the defaults in Settings, and saved "
                      "with the chat, like its effort.", self)
        note.setWordWrap(True)
        note.setObjectName("settingHint")
        self.instructions = QPlainTextEdit(self)
        self.instructions.setObjectName("chatInstructions")
        self.instructions.setAccessibleName("Extra instructions for this chat")
        self.instructions.setFixedHeight(90)
        self.prompt_note = QLabel(REQUIRED_PROMPT_NOTE, self)
        self.prompt_note.setObjectName("chatPromptNote")
        self.prompt_note.setWordWrap(True)
        self.prompt_note.hide()
        self.temperature = self._spin("chatTemperature", 0.05, 2.0)  # the engine refuses 0
        self.top_p = self._spin("chatTopP", 0.05, 1.0)
        self.reset_button = QPushButton("Use the defaults", self)
        self.reset_button.setObjectName("chatSettingsReset")
        self.reset_button.clicked.connect(self.reset)
        form = QFormLayout()
        form.addRow("Instructions", self.instructions)
        form.addRow("", self.prompt_note)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(title)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(controller.save_settings)
        self.instructions.textChanged.connect(self._on_instructions)
        self.temperature.valueChanged.connect(lambda v: self._set("temperature", round(v, 2)))
        self.top_p.valueChanged.connect(lambda v: self._set("top_p", round(v, 2)))
        self.load()

    def load(self) -> None:
        """Show this chat's values (the defaults where it has none), and whether the model keeps
        its own system prompt."""
        own = self._controller.own
        values = {key: getattr(own, key) for key in KEYS}
        values = {key: self._settings.get(key) if value is None else value for key, value in values.items()}
        self._loading = True
        if self.instructions.toPlainText() != values["system_prompt"]:
            self.instructions.setPlainText(values["system_prompt"])
        self.temperature.setValue(values["temperature"])
        self.top_p.setValue(values["top_p"])
        self._loading = False
        self.prompt_note.setVisible(self._controller.required_system_prompt)

    def reset(self) -> None:
        self._controller.set_own(system_prompt=None, temperature=None, top_p=None)
        self.load()

    def _on_instructions(self) -> None:
        if self._set("system_prompt", self.instructions.toPlainText(), save=False):
            self._save_timer.start()

    def _set(self, key: str, value: object, *, save: bool = True) -> bool:
        if self._loading:
            return False
        own = None if value == self._settings.get(key) else value
        self._controller.set_own(save=save, **{key: own})
        return True

    def _spin(self, name: str, low: float, high: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        return spin
