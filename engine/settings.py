"""The user's settings: a typed schema (type, default, description) saved atomically as JSON.

Qt-free so the command line reads the same file as the window. To add a setting, add one
`Setting(...)` entry to SCHEMA; the settings dialog builds its form from the schema.

A file that cannot be read is never lost: it is renamed to `settings.json.corrupt-<time>` and
the defaults are used, and the caller is told so it can show a notice.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import BadRequestError
from engine.providers import PROVIDER_KEYS

log = logging.getLogger(__name__)

#: Bumped when a stored value changes meaning; upgrades go in _UPGRADES.
VERSION = 1

EFFORTS = ("low", "medium", "high", "unlimited")


@dataclass(frozen=True)
class Setting:
    """One setting: its key in the file, type, default and the words a user reads."""

    key: str
    type: type
    default: Any
    label: str
    description: str
    section: str = "General"
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    multiline: bool = False
    #: Extra validation: returns why a value is wrong, or "" when it is fine.
    check: Callable[[Any], str] | None = None

    def coerce(self, value: Any) -> Any:
        """The value in this setting's type, or BadRequestError saying what is wrong."""
        if self.type is bool:
            if not isinstance(value, bool):
                raise BadRequestError(f"{self.label} must be true or false.")
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadRequestError(f"{self.label} must be a whole number.")
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BadRequestError(f"{self.label} must be a number.")
            value = float(value)
        elif self.type is str:
            if not isinstance(value, str):
                raise BadRequestError(f"{self.label} must be text.")
        if self.choices is not None and value not in self.choices:
            raise BadRequestError(f"{self.label} must be one of: {', '.join(self.choices)}.")
        if self.minimum is not None and value < self.minimum:
            raise BadRequestError(f"{self.label} must be at least {self.minimum:g}.")
        if self.maximum is not None and value > self.maximum:
            raise BadRequestError(f"{self.label} must be at most {self.maximum:g}.")
        problem = self.check(value) if self.check is not None else ""
        if problem:
            raise BadRequestError(f"{self.label}: {problem}")
        return value


#: Modifier names a global hotkey may use (app/quick/hotkey*.py map each to the platform's).
HOTKEY_MODIFIERS = ("ctrl", "control", "alt", "shift", "super", "win", "meta")


def hotkey_problem(text: str) -> str:
    """Why `text` is not a usable global hotkey ('Ctrl+Alt+Space'), or "" (also for "", which means none)."""
    parts = [part.strip() for part in text.split("+")]
    if not text.strip():
        return ""
    if any(not part for part in parts):
        return f"'{text}' has an empty part. Write it like Ctrl+Alt+Space."
    *mods, key = parts
    unknown = [mod for mod in mods if mod.lower() not in HOTKEY_MODIFIERS]
    if unknown:
        return f"unknown modifier '{unknown[0]}' (use Ctrl, Alt, Shift or Super)."
    if not mods:
        return "a global shortcut needs at least one modifier (Ctrl, Alt, Shift or Super) before the key."
    if key.lower() in HOTKEY_MODIFIERS:
        return "the shortcut must end with a key, not a modifier (e.g. Ctrl+Alt+Space)."
    if not (len(key) == 1 and key.isprintable()) and not key.isalnum():
        return f"unknown key '{key}'."
    return ""


def budget_message_problem(text: str) -> str:
    """Why `text` cannot close the thinking, or "" when it can."""
    if len(text) > 200:
        return "keep it under 200 characters: it is written into the thinking every time."
    if "<think>" in text or "</think>" in text:
        return "it must not contain <think> or </think>: the closing marker is added after it."
    return ""


SCHEMA: tuple[Setting, ...] = (
    Setting("model", str, "", "Model", "An installed model's name, a model folder, 'demo', or "
            "'remote:NAME' for a saved connection's model. "
            "Empty: the first installed model, else the demo.", "Model"),
    Setting("provider", str, "auto", "Provider", "Where the model runs. 'auto' tries NPU, then GPU, "
            "then CPU, and keeps the first that works.", "Model", choices=PROVIDER_KEYS),
    Setting("temperature", float, 0.8, "Temperature", "Higher is more varied, lower more predictable.",
            "Answers", minimum=0.05, maximum=2.0),
    Setting("top_p", float, 0.95, "Top-p", "Sample only from the most likely tokens that together "
            "reach this probability.", "Answers", minimum=0.05, maximum=1.0),
    Setting("system_prompt", str, "", "Extra instructions", "Added to the model's system prompt on "
            "every turn.", "Answers", multiline=True),
    Setting("effort", str, "medium", "Reasoning effort", "The effort a new chat starts with (each chat keeps the one chosen next to Send).",
            "Thinking", choices=EFFORTS),
    Setting("budget_low", int, 256, "Low effort budget", "Thinking tokens allowed at Low effort.",
            "Thinking", minimum=16, maximum=1_000_000),
    Setting("budget_medium", int, 1024, "Medium effort budget", "Thinking tokens allowed at Medium "
            "effort.", "Thinking", minimum=16, maximum=1_000_000),
    Setting("budget_high", int, 4096, "High effort budget", "Thinking tokens allowed at High effort.",
            "Thinking", minimum=16, maximum=1_000_000),
    Setting("budget_message_on", bool, False, "End the thinking with a closing line",
            "When the thinking budget runs out, the line below ends the thinking, so the answer starts from "
            "a clear end (llama.cpp's budget message). It is part of the thinking, never of the answer.",
            "Thinking"),
    Setting("budget_message", str, "Time is up; I will answer now.", "Closing line", "Written at the end of "
            "the thinking when its budget runs out (with the option above).", "Thinking",
            check=budget_message_problem),
    Setting("thinking_expanded", bool, False, "Show thinking expanded", "Keep each answer's thinking "
            "open instead of collapsing it when the answer starts.", "Thinking"),
    Setting("model_titles", bool, True, "Titles by the model", "After a new chat's first answer, the model "
            "names the chat in a few words, in the background (not the demo model). A chat you renamed keeps "
            "its name.", "Answers"),
    Setting("theme", str, "system", "Theme", "Light, dark, or follow the system.", "Appearance",
            choices=("system", "light", "dark")),
    Setting("font_size", int, 0, "Text size", "Point size of the conversation text; 0 uses the "
            "system's size.", "Appearance", minimum=0, maximum=32),
    Setting("tray", bool, False, "Live in the system tray", "Closing the window keeps Ponder running in "
            "the tray, with the model loaded, ready for quick actions. Quit in the tray's menu ends it.",
            "Quick actions"),
    Setting("hotkey", str, "Ctrl+Alt+Space", "Global hotkey", "Opens quick actions on the selected text "
            "from any app while Ponder runs (window or tray). Empty: no global shortcut.", "Quick actions",
            check=hotkey_problem),
    Setting("api_enabled", bool, False, "Local API", "Let other apps on this computer use the model through "
            "an OpenAI-compatible API on 127.0.0.1 (File › Local API… shows the address and key).", "Local API"),
    Setting("api_port", int, 8745, "Local API port", "The port the local API listens on.", "Local API",
            minimum=1024, maximum=65535),
    Setting("api_save_history", bool, False, "Save API requests to the history", "Each request other apps "
            "send is saved as a conversation (its title starts with \"API · \"); a follow-up joins its "
            "conversation. Also used by 'ponder serve'.", "Local API"),
)


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file's values up to VERSION (nothing to do yet)."""
    return data


class Settings:
    """Typed values for a schema. Unknown keys (from a newer Ponder) are kept as they are."""

    def __init__(self, values: dict[str, Any] | None = None, schema: tuple[Setting, ...] = SCHEMA) -> None:
        self.schema = {s.key: s for s in schema}
        self._values: dict[str, Any] = {s.key: s.default for s in schema}
        self._unknown: dict[str, Any] = {}
        for key, value in (values or {}).items():
            if key == "version":
                continue
            if key not in self.schema:
                self._unknown[key] = value
                continue
            try:
                self._values[key] = self.schema[key].coerce(value)
            except BadRequestError as exc:
                log.warning("setting %s ignored: %s", key, exc)

    def get(self, key: str) -> Any:
        """The value of a setting (KeyError for a key not in the schema)."""
        return self._values[key]

    def set(self, key: str, value: Any) -> None:
        """Set a value; raises BadRequestError when it does not fit the schema."""
        self._values[key] = self.schema[key].coerce(value)

    def reset(self) -> None:
        """Every setting back to its default."""
        self._values = {key: s.default for key, s in self.schema.items()}

    def copy(self) -> Settings:
        clone = Settings(schema=tuple(self.schema.values()))
        clone._values, clone._unknown = dict(self._values), dict(self._unknown)
        return clone

    def to_json(self) -> dict[str, Any]:
        """What is written to the file."""
        return {"version": VERSION, **self._unknown, **self._values}

    def thinking_budgets(self) -> dict[str, int | None]:
        """Effort name → thinking tokens, for ThinkingBudget.parse."""
        return {
            "low": self.get("budget_low"),
            "medium": self.get("budget_medium"),
            "high": self.get("budget_high"),
            "unlimited": None,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self.to_json() == other.to_json()


@dataclass(frozen=True)
class LoadedSettings:
    """Settings read from disk, and where an unreadable file was moved (to tell the user)."""

    settings: Settings
    corrupt_copy: Path | None = None


class SettingsStore:
    """Reads and writes one settings file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> LoadedSettings:
        """The saved settings; defaults when there is no file or it cannot be read."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LoadedSettings(Settings())
        except OSError as exc:
            log.warning("cannot read %s: %s", self.path, exc)
            return LoadedSettings(Settings())
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            log.warning("settings file %s is unreadable (%s); using defaults", self.path, exc)
            return LoadedSettings(Settings(), self._set_aside())
        return LoadedSettings(Settings(_upgrade(data)))

    def save(self, settings: Settings) -> None:
        """Write atomically: a crash leaves either the old file or the new one, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(settings.to_json(), indent=2, ensure_ascii=False) + "\n"
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _set_aside(self) -> Path | None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            os.replace(self.path, target)
        except OSError as exc:
            log.warning("cannot set aside %s: %s", self.path, exc)
            return None
        return target
