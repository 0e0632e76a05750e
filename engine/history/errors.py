"""Typed history errors, each carrying the recovery choices a user can pick from."""

from __future__ import annotations

import enum
from pathlib import Path

from engine.errors import PonderError


class LockReason(enum.Enum):
    """Why the history cannot be opened."""

    KEY_MISSING = "key_missing"  # the keyring no longer holds the key
    KEY_WRONG = "key_wrong"  # a key is there but it is not the one that encrypted the store
    KEYRING_UNAVAILABLE = "keyring_unavailable"  # the recorded keyring cannot be reached
    KEYRING_CHANGED = "keyring_changed"  # a different (or insecure) keyring is in charge now
    PASSPHRASE_NEEDED = "passphrase_needed"
    PASSPHRASE_WRONG = "passphrase_wrong"
    DAMAGED = "damaged"  # the file cannot be decrypted or fails its integrity checks
    RECORD_MISSING = "record_missing"  # a database exists but nothing says how it was keyed


class RecoveryChoice(enum.Enum):
    """What the user may do about a locked store. None of them touches the existing file."""

    RETRY_KEYRING = "retry_keyring"
    ENTER_PASSPHRASE = "enter_passphrase"
    RESTORE_BACKUP = "restore_backup"  # copy a backup to a new file and use that
    NEW_STORE = "new_store"  # start an empty store in a new file; the old one stays as it is


class SetupChoice(enum.Enum):
    """How to protect a new store when no secure keyring is available."""

    PASSPHRASE = "passphrase"
    UNENCRYPTED = "unencrypted"


_REASON_TEXT = {
    LockReason.KEY_MISSING: "the key that unlocks it is no longer in the system keyring",
    LockReason.KEY_WRONG: "the key in the system keyring does not match it",
    LockReason.KEYRING_UNAVAILABLE: "the system keyring that holds its key cannot be reached",
    LockReason.KEYRING_CHANGED: "the system keyring in use is not the one that holds its key",
    LockReason.PASSPHRASE_NEEDED: "it is protected by a passphrase",
    LockReason.PASSPHRASE_WRONG: "the passphrase is wrong",
    LockReason.DAMAGED: "the file is damaged",
    LockReason.RECORD_MISSING: "the record of how it was encrypted is missing",
}


class HistoryLockedError(PonderError):
    """The store exists but cannot be opened; its file is left exactly as it was."""

    exit_code = 9

    def __init__(self, reason: LockReason, database: Path, choices: tuple[RecoveryChoice, ...],
                 detail: str = "") -> None:
        super().__init__(f"{reason.value}: {database}")
        self.reason, self.database, self.choices, self.detail = reason, database, choices, detail

    def user_message(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return (f"Your conversation history cannot be opened: {_REASON_TEXT[self.reason]}{detail}. "
                f"Nothing was changed in {self.database}.")


class HistorySetupNeededError(PonderError):
    """No secure keyring can hold a new key: the user must pick a passphrase or opt out."""

    exit_code = 9

    def __init__(self, backend: str) -> None:
        super().__init__(backend)
        self.backend = backend
        self.choices = (SetupChoice.PASSPHRASE, SetupChoice.UNENCRYPTED)

    def user_message(self) -> str:
        return ("No secure system keyring is available to hold the history key "
                f"(found: {self.backend}). Protect the history with a passphrase, or choose "
                "explicitly to keep it unencrypted.")


class ConversationNotFoundError(PonderError):
    """No conversation with that id."""

    exit_code = 2

    def __init__(self, conversation_id: object) -> None:
        super().__init__(str(conversation_id))
        self.conversation_id = conversation_id

    def user_message(self) -> str:
        return f"There is no conversation {self.conversation_id} in the history."


class HistoryImportError(PonderError):
    """A file that is not a conversation exported by Ponder."""

    exit_code = 2

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source, self.reason = source, reason

    def user_message(self) -> str:
        return f"Cannot import {self.source}: {self.reason}."


class HistoryWriteError(PonderError):
    """The store refused a write (disk full, file gone); what was committed before is kept."""

    exit_code = 9

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def user_message(self) -> str:
        return f"The conversation could not be saved: {self.detail}."
