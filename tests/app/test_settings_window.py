"""Settings through the window: the dialog edits them, they survive a restart, a corrupt file
is set aside with a notice, and the theme follows the setting."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDialogButtonBox, QDoubleSpinBox, QSpinBox

from app.main import build_app
from app.settings_dialog import SettingsDialog
from app.theme import DARK
from engine.settings import Settings
from tests.app.xdriver import run_on_x


def _app(qtbot, paths):
    app = build_app(QApplication.instance(), paths)
    qtbot.addWidget(app.window)
    return app


def test_dialog_edits_are_saved_and_survive_a_restart(qtbot, ponder_home):
    app = _app(qtbot, ponder_home)
    assert app.window.settings_action.shortcut() == QKeySequence("Ctrl+,")
    dialog = SettingsDialog(app.settings, app.window)
    qtbot.addWidget(dialog)
    dialog.findChild(QDoubleSpinBox, "setting_temperature").setValue(0.4)
    dialog.findChild(QSpinBox, "setting_budget_high").setValue(9000)
    dialog.findChild(QCheckBox, "setting_thinking_expanded").setChecked(True)
    dialog.findChild(QComboBox, "setting_theme").setCurrentIndex(2)  # dark
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.result_settings is not None
    app.apply_settings(dialog.result_settings)
    assert app.theme is DARK and DARK.window in QApplication.instance().styleSheet()
    app.service.close()

    again = _app(qtbot, ponder_home)
    assert again.settings.get("temperature") == 0.4
    assert again.settings.get("budget_high") == 9000
    assert again.settings.get("thinking_expanded") is True
    assert again.settings.get("theme") == "dark" and again.theme is DARK
    again.apply_settings(Settings())  # back to the light theme for the tests that follow
    again.service.close()


def test_the_budget_closing_line_is_edited_with_its_switch_and_checked(qtbot):
    from PySide6.QtWidgets import QLabel, QLineEdit

    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    switch = dialog.findChild(QCheckBox, "setting_budget_message_on")
    line = dialog.findChild(QLineEdit, "setting_budget_message")
    assert not switch.isChecked() and not line.isEnabled()
    assert line.text() == "Time is up; I will answer now."
    switch.setChecked(True)
    assert line.isEnabled()
    line.setText("Enough.</think>")
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    save.click()
    error = dialog.findChild(QLabel, "settingsError")
    assert dialog.result_settings is None and "must not contain <think> or </think>" in error.text()
    line.setText("Enough thinking; answering.")
    save.click()
    assert dialog.result_settings.get("budget_message_on") is True
    assert dialog.result_settings.get("budget_message") == "Enough thinking; answering."


def test_the_dialog_fits_its_width_without_a_sideways_scroll_bar(qtbot):
    from PySide6.QtWidgets import QScrollArea

    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    scroll = dialog.findChild(QScrollArea)
    qtbot.waitUntil(lambda: scroll.viewport().width() > 0)
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    assert scroll.horizontalScrollBar().maximum() == 0


def test_restore_defaults_in_the_dialog(qtbot, ponder_home):
    settings = Settings()
    settings.set("top_p", 0.5)
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.result_settings == Settings()


def test_a_corrupt_settings_file_is_kept_and_the_user_told(qtbot, ponder_home):
    ponder_home.config.mkdir(parents=True)
    ponder_home.settings_file.write_text("{ this is not json", encoding="utf-8")
    app = _app(qtbot, ponder_home)
    app.window.show()
    banner = app.window.notice_banner
    assert banner.isVisible() and "could not be read" in banner.label.text()
    kept = [p for p in ponder_home.config.iterdir() if p.name.startswith("settings.json.corrupt-")]
    assert len(kept) == 1 and kept[0].name in banner.label.text()
    assert kept[0].read_text(encoding="utf-8") == "{ this is not json"
    assert app.settings == Settings()
    app.service.close()


def test_effort_and_view_choices_are_remembered(qtbot, ponder_home):
    app = _app(qtbot, ponder_home)
    combo = app.window.findChild(QComboBox, "effortSelector")
    combo.setCurrentIndex(combo.findData("high"))
    assert app.controller.effort == "high"
    expand = next(a for a in app.window.menu("View").actions() if "thinking expanded" in a.text())
    expand.trigger()
    app.service.close()

    again = _app(qtbot, ponder_home)
    assert again.window.findChild(QComboBox, "effortSelector").currentData() == "high"
    assert again.controller.effort == "high"
    assert again.settings.get("thinking_expanded") is True
    again.service.close()



def test_the_wheel_scrolls_the_dialog_and_changes_no_setting():
    # A real wheel on a real X server: Qt hands an ignored wheel to the scroll area only then.
    result = run_on_x("""
        from PySide6.QtWidgets import QComboBox, QScrollArea, QSpinBox
        from app.settings_dialog import SettingsDialog
        from engine.settings import Settings

        dialog = SettingsDialog(Settings())
        dialog.resize(560, 400)
        dialog.show()
        settle(800)
        spin = dialog.findChild(QSpinBox, "setting_budget_medium")
        combo = dialog.findChild(QComboBox, "setting_theme")
        bar = dialog.findChild(QScrollArea).verticalScrollBar()
        dialog.findChild(QScrollArea).ensureWidgetVisible(spin)
        settle()
        start = bar.value()
        xdo(*at(spin), "click", "5")   # wheel down with the pointer over the spin box
        wait_for(lambda: bar.value() > start, 2000)
        xdo(*at(combo), "click", "5")
        unfocused = (spin.value(), combo.currentData(), bar.value())
        xdo(*at(spin), "click", "1")   # click into it: now the wheel is meant for it
        wait_for(spin.hasFocus, 2000)
        xdo(*at(spin), "click", "5")
        wait_for(lambda: spin.value() != 1024, 2000)
        done({"start": start, "spin": unfocused[0], "theme": unfocused[1], "scrolled": unfocused[2],
              "focused_spin": spin.value()})
    """)
    assert result["spin"] == 1024 and result["theme"] == "system"
    assert result["scrolled"] > result["start"]  # the wheel scrolled the dialog instead
    assert result["focused_spin"] != 1024


def test_file_menu_ends_with_quit_and_view_follows_the_settings_dialog(qtbot, ponder_home):
    app = _app(qtbot, ponder_home)
    file_menu = [a.text() for a in app.window.menu("File").actions() if a.text()]
    assert file_menu[-1] == "&Quit"
    assert {"&Import conversation…", "&Models…"} <= set(file_menu)
    # Dark chosen in Settings: the View menu, opened afterwards, ticks Dark.
    dialog = SettingsDialog(app.settings, app.window)
    qtbot.addWidget(dialog)
    dialog.findChild(QComboBox, "setting_theme").setCurrentIndex(
        dialog.findChild(QComboBox, "setting_theme").findData("dark"))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    app.apply_settings(dialog.result_settings)
    view = app.window.menu("View")
    view.popup(app.window.mapToGlobal(app.window.rect().center()))
    qtbot.waitUntil(view.isVisible)
    ticked = [a.text() for a in view.actions() if a.isCheckable() and a.isChecked() and "Theme" in a.text()]
    assert ticked == ["Theme: &dark"]
    view.close()
    app.apply_settings(Settings())  # back to the light theme for the tests that follow
    app.service.close()
