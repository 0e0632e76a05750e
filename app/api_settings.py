"""Settings for the local API in the window: File › Local API…, and the one attach call.

`attach_local_api(app, history=...)` (one call in app/main.py build_app) adds the menu entry and
the status-bar count, and starts app/api_settings_runner.py's server whenever the settings
`api_enabled` / `api_port` (also in the Settings dialog's "Local API" section) say so;
`api_save_history` saves answered requests into the window's history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.api_settings_runner import HOST, WindowApi
from engine.api.security import KeyringKeys

if TYPE_CHECKING:
    from app.history.panel import HistoryPanel
    from app.main import PonderApp


class ApiSettingsDialog(QDialog):
    """On/off, port, the address and the key to paste into other apps."""

    def __init__(self, api: WindowApi, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.setObjectName("apiSettings")
        self.setWindowTitle("Local API")
        settings = api.app.settings
        intro = QLabel("Other apps on this computer (editors, note apps, scripts) can use Ponder's model "
                       "through an OpenAI-compatible API. Paste the address and the key into them; the "
                       "thinking arrives apart from the answer, in <i>reasoning_content</i>.")
        intro.setWordWrap(True)
        self.enabled = QCheckBox("Turn on the local API (127.0.0.1 only)")
        self.enabled.setChecked(settings.get("api_enabled"))
        self.save_history = QCheckBox("Save requests to the history")
        self.save_history.setObjectName("apiSaveHistory")
        self.save_history.setChecked(settings.get("api_save_history"))
        self.save_hint = QLabel()
        self.save_hint.setObjectName("apiSaveHint")
        self.save_hint.setWordWrap(True)
        self.save_history.toggled.connect(self.refresh)
        self.port = QSpinBox()
        self.port.setRange(1024, 65535)
        self.port.setValue(settings.get("api_port"))
        self.address = _read_only("apiAddress")
        self.key = _read_only("apiKey")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        show = QPushButton("Show")
        show.setCheckable(True)
        show.toggled.connect(lambda on: self.key.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        self.new_key = new = QPushButton("New key")
        new.setToolTip("Make a new key; apps using the old one must be given the new one.")
        new.clicked.connect(api.new_key)
        self.status = QLabel()
        self.status.setObjectName("apiStatus")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.enabled)
        form.addRow("Port", self.port)
        form.addRow("Address", _row(self.address, _copy_button(self.address, "copyAddress")))
        form.addRow("API key", _row(self.key, show, _copy_button(self.key, "copyKey"), new))
        form.addRow("Status", self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.column = layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        # Outside the form: QFormLayout gives a wrapped label that spans a row too little height.
        layout.addWidget(self.save_history)
        layout.addWidget(self.save_hint)
        layout.addWidget(buttons)
        self.port.valueChanged.connect(self.refresh)
        api.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.address.setText(f"http://{HOST}:{self.port.value()}/v1")
        key = self.api.key
        self.key.setText(key or "")
        self.key.setCursorPosition(0)
        self.key.setPlaceholderText("" if key else "none (no secure system keyring)")
        self.key.setToolTip("" if key else "Without a secure keyring (GNOME Keyring, KWallet, Keychain, Windows "
                            "Credential Manager) the API runs without a key; it is still reachable only "
                            "from this computer.")
        self.new_key.setEnabled(bool(key))
        self.status.setText(self.api.status_text())
        self.save_hint.setText(save_hint(self.save_history.isChecked(), self.api.history_open))
        if self.isVisible():  # a longer hint must not be cut off at the bottom
            self.column.invalidate()
            self.resize(self.width(), max(self.height(), self.column.totalHeightForWidth(self.width())))

    def accept(self) -> None:
        new = self.api.app.settings.copy()
        new.set("api_enabled", self.enabled.isChecked())
        new.set("api_port", self.port.value())
        new.set("api_save_history", self.save_history.isChecked())
        self.api.app.apply_settings(new)
        self.api.reconcile()
        super().accept()


def save_hint(saving: bool, history_open: bool) -> str:
    """What saving requests does, and whether it can now."""
    hint = ("Each answered request appears in the sidebar as a conversation titled “API · …”, with the "
            "model the app asked for and the thinking kept apart; a follow-up joins its conversation.")
    if saving and not history_open:
        hint += " The history is not open now, so nothing is saved until it is."
    return hint


def _read_only(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setReadOnly(True)
    edit.setMinimumWidth(280)
    return edit


def _copy_button(edit: QLineEdit, name: str) -> QPushButton:
    button = QPushButton("Copy")
    button.setObjectName(name)
    button.clicked.connect(lambda: QGuiApplication.clipboard().setText(edit.text()))
    return button


def _row(*widgets: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return row


def attach_local_api(app: PonderApp, keys: KeyringKeys | None = None, *,
                     history: HistoryPanel | None = None) -> WindowApi:
    """File › Local API…, the status-bar count, and the server following the settings; requests
    are saved into `history`'s store when the user asks for it."""
    api = WindowApi(app, keys, history=history)
    app.window._local_api = api  # type: ignore[attr-defined]  # owned by the window, like the other attached features

    def open_dialog() -> ApiSettingsDialog:
        dialog = ApiSettingsDialog(api, app.window)
        app.window._api_dialog = dialog  # type: ignore[attr-defined]  # keep it alive while shown
        dialog.show()
        return dialog

    action = app.window.add_action("File", "Local &API…", None, open_dialog)
    action.setObjectName("localApiAction")
    # After the Settings dialog (connected earlier) has applied its changes, follow them.
    app.window.settings_action.triggered.connect(api.reconcile)
    app.window.closing.connect(lambda: _closing(app, api))
    api.reconcile()
    return api


def _closing(app: PonderApp, api: WindowApi) -> None:
    """The window closes: the app quits unless the tray keeps it (and the API) running."""
    quick = app.quick
    if quick is None or getattr(quick, "quitting", False) or not app.settings.get("tray"):
        api.shutdown()
