"""The settings dialog, built from engine.settings.SCHEMA: one editor per setting, by type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.quick.hotkey import NATIVE
from engine.errors import BadRequestError
from engine.settings import Setting, Settings


class _FocusWheel:
    """Takes the mouse wheel only when focused: scrolling the dialog must never change a value
    the pointer happens to pass over."""

    def _setup_wheel(self) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # type: ignore[attr-defined]  # mixed into QWidgets

    def wheelEvent(self, event) -> None:
        if self.hasFocus():  # type: ignore[attr-defined]
            super().wheelEvent(event)  # type: ignore[misc]
        else:
            event.ignore()  # goes on to the scroll area


class _SpinBox(_FocusWheel, QSpinBox):
    pass


class _DoubleSpinBox(_FocusWheel, QDoubleSpinBox):
    pass


class _ComboBox(_FocusWheel, QComboBox):
    pass


def _editor(setting: Setting, parent: QWidget) -> tuple[QWidget, Callable[[], Any], Callable[[Any], None]]:
    """A widget for the setting, a getter and a setter."""
    if setting.type is bool:
        box = QCheckBox(setting.label, parent)
        return box, box.isChecked, box.setChecked
    if setting.choices is not None:
        combo = _ComboBox(parent)
        combo._setup_wheel()
        for choice in setting.choices:
            combo.addItem(choice.replace("-", " ").capitalize() if setting.key != "provider" else choice, choice)
        return combo, combo.currentData, lambda v: combo.setCurrentIndex(max(0, combo.findData(v)))
    if setting.type is int:
        spin = _SpinBox(parent)
        spin._setup_wheel()
        spin.setRange(int(setting.minimum or 0), int(setting.maximum or 2**31 - 1))
        spin.setGroupSeparatorShown(True)
        if setting.key == "font_size":
            spin.setSpecialValueText("System")
        return spin, spin.value, spin.setValue
    if setting.type is float:
        dspin = _DoubleSpinBox(parent)
        dspin._setup_wheel()
        dspin.setRange(setting.minimum or 0.0, setting.maximum or 1e9)
        dspin.setSingleStep(0.05)
        dspin.setDecimals(2)
        return dspin, dspin.value, dspin.setValue
    if setting.multiline:
        text = QPlainTextEdit(parent)
        text.setFixedHeight(70)
        return text, text.toPlainText, text.setPlainText
    line = QLineEdit(parent)
    if setting.key == "model":
        line.setPlaceholderText("demo, an installed model, or a folder")
    if setting.key == "hotkey":
        line.setPlaceholderText("none (e.g. Ctrl+Alt+Space)")
    return line, line.text, line.setText


class SettingsDialog(QDialog):
    """Edits a copy of the settings; `result_settings` holds them after Save."""

    def __init__(self, settings: Settings, parent: QWidget | None = None, *,
                 hotkey_support: str | None = None) -> None:
        """`hotkey_support`: 'x11', 'windows' or 'macos', or the help to show instead (app.quick.hotkey.hotkey_support();
        detected when not given)."""
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self._original = settings
        self.result_settings: Settings | None = None
        self._fields: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self.hints: dict[str, QLabel] = {}

        content = QWidget()
        content_layout = QVBoxLayout(content)
        sections: dict[str, QFormLayout] = {}
        for setting in settings.schema.values():
            form = sections.get(setting.section)
            if form is None:
                group = QGroupBox(setting.section, content)
                form = sections[setting.section] = QFormLayout(group)
                content_layout.addWidget(group)
            widget, getter, setter = _editor(setting, content)
            widget.setObjectName(f"setting_{setting.key}")
            widget.setAccessibleName(setting.label)
            widget.setToolTip(setting.description)
            setter(settings.get(setting.key))
            self._fields[setting.key] = (getter, setter)
            hint = QLabel(setting.description, content)
            hint.setObjectName("settingHint")
            hint.setWordWrap(True)
            self.hints[setting.key] = hint
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(hint)
            form.addRow("" if setting.type is bool else setting.label, column)
        content_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        if "hotkey" in self.hints:
            self._explain_hotkey(hotkey_support)
        self._link_budget_message()

        self.error = QLabel(self)
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults, self)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self._defaults)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def _explain_hotkey(self, support: str | None) -> None:
        """Where apps cannot grab a global key (Wayland), say how to bind `ponder act` instead."""
        if support is None:
            from app.quick.hotkey import hotkey_support

            support = hotkey_support()
        if support in NATIVE:
            return
        editor = self.findChild(QLineEdit, "setting_hotkey")
        if editor is not None:
            # A field that cannot work here would only mislead; the help takes its place.
            editor.setEnabled(False)
            editor.hide()
        hint = self.hints["hotkey"]
        hint.setText(support)
        hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _link_budget_message(self) -> None:
        """The closing line is editable only while the option that uses it is on."""
        switch = self.findChild(QCheckBox, "setting_budget_message_on")
        line = self.findChild(QLineEdit, "setting_budget_message")
        if switch is not None and line is not None:
            switch.toggled.connect(line.setEnabled)
            line.setEnabled(switch.isChecked())

    def _defaults(self) -> None:
        for key, setting in self._original.schema.items():
            self._fields[key][1](setting.default)

    def _save(self) -> None:
        updated = self._original.copy()
        try:
            for key, (getter, _setter) in self._fields.items():
                updated.set(key, getter())
        except BadRequestError as exc:
            self.error.setText(exc.user_message())
            self.error.show()
            return
        self.result_settings = updated
        self.accept()
