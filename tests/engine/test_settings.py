"""The settings schema and its file: typed values, atomic saves, a corrupt file set aside."""

from __future__ import annotations

import json

import pytest

from engine.errors import BadRequestError
from engine.settings import SCHEMA, Settings, SettingsStore


def test_every_setting_has_a_valid_default_and_words_for_the_user():
    for setting in SCHEMA:
        assert setting.coerce(setting.default) == setting.default
        assert setting.label and setting.description.endswith(".")


def test_save_then_load_round_trips(ponder_home):
    store = SettingsStore(ponder_home.settings_file)
    settings = Settings()
    settings.set("temperature", 0.3)
    settings.set("theme", "dark")
    settings.set("budget_high", 8000)
    settings.set("system_prompt", "Answer in French.\nBe brief.")
    store.save(settings)
    loaded = store.load()
    assert loaded.corrupt_copy is None
    assert loaded.settings == settings
    assert loaded.settings.get("temperature") == 0.3
    assert [p.name for p in ponder_home.config.iterdir()] == ["settings.json"]  # no temp files left


def test_missing_file_gives_defaults(ponder_home):
    loaded = SettingsStore(ponder_home.settings_file).load()
    assert loaded.settings == Settings() and loaded.corrupt_copy is None


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\x00\x01garbage"])
def test_corrupt_file_falls_back_to_defaults_and_is_kept(ponder_home, content):
    ponder_home.config.mkdir(parents=True)
    ponder_home.settings_file.write_text(content, encoding="utf-8")
    loaded = SettingsStore(ponder_home.settings_file).load()
    assert loaded.settings == Settings()
    assert loaded.corrupt_copy is not None
    assert loaded.corrupt_copy.name.startswith("settings.json.corrupt-")
    assert loaded.corrupt_copy.read_text(encoding="utf-8") == content
    assert not ponder_home.settings_file.exists()


def test_bad_values_fall_back_per_setting_and_unknown_keys_survive(ponder_home):
    ponder_home.config.mkdir(parents=True)
    ponder_home.settings_file.write_text(json.dumps({
        "version": 1, "temperature": "hot", "theme": "purple", "top_p": 0.5, "from_the_future": [1],
    }), encoding="utf-8")
    store = SettingsStore(ponder_home.settings_file)
    settings = store.load().settings
    assert settings.get("temperature") == 0.8 and settings.get("theme") == "system"
    assert settings.get("top_p") == 0.5
    store.save(settings)
    assert json.loads(ponder_home.settings_file.read_text())["from_the_future"] == [1]


def test_set_rejects_values_outside_the_schema():
    settings = Settings()
    with pytest.raises(BadRequestError, match="Temperature"):
        settings.set("temperature", 9.0)
    with pytest.raises(BadRequestError):
        settings.set("thinking_expanded", "yes")
    with pytest.raises(BadRequestError):
        settings.set("budget_low", 1.5)
    with pytest.raises(BadRequestError):
        settings.set("provider", "quantum")


def test_budgets_feed_the_effort_levels():
    settings = Settings()
    settings.set("budget_low", 100)
    assert settings.thinking_budgets() == {"low": 100, "medium": 1024, "high": 4096, "unlimited": None}
