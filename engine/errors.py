"""Typed engine errors and the one place where they become text a user reads.

onnxruntime-genai raises plain RuntimeError for everything; the engine maps those messages to
these types so the GUI and the command line never sniff strings.
"""

from __future__ import annotations

from pathlib import Path


class PonderError(Exception):
    """Base of every error the engine reports to a user."""

    exit_code = 1

    def user_message(self) -> str:
        """One or two sentences for a person, no traceback."""
        return str(self)


class ModelNotFoundError(PonderError):
    """The model named by the user does not exist."""

    exit_code = 3

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def user_message(self) -> str:
        return (
            f"No model found at '{self.name}'. Use 'demo', or the path of a folder that holds "
            "genai_config.json."
        )


class InvalidModelFolderError(PonderError):
    """A model folder that must not be handed to onnxruntime-genai."""

    exit_code = 3

    def __init__(self, folder: Path, file: str, reason: str) -> None:
        super().__init__(f"{folder}: {file}: {reason}")
        self.folder, self.file, self.reason = folder, file, reason

    def user_message(self) -> str:
        return f"The model folder {self.folder} cannot be used: {self.file}: {self.reason}."


class ProviderUnavailableError(PonderError):
    """No execution provider could run the model (or the forced one failed)."""

    exit_code = 4

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider, self.reason = provider, reason

    def user_message(self) -> str:
        return f"The {self.provider} provider cannot run this model: {self.reason}"


class ContextTooLongError(PonderError):
    """The prompt does not fit the model's context even after dropping old turns."""

    exit_code = 5

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"{needed} tokens needed, {available} available")
        self.needed, self.available = needed, available

    def user_message(self) -> str:
        return (
            f"The message is too long for this model: it needs {self.needed} tokens and the "
            f"model can take {self.available}. Shorten it or attach it as a document."
        )


class MemoryBudgetError(PonderError):
    """The conversation's KV cache would not fit in the memory that is free."""

    exit_code = 5

    def __init__(self, needed: int, available: int, *, history: bool = False) -> None:
        super().__init__(f"{needed} bytes of KV cache needed, {available} free")
        self.needed, self.available, self.history = needed, available, history

    def user_message(self) -> str:
        need, free = self.needed / 2**30, max(0, self.available) / 2**30
        way_out = ("Start a new chat (the conversation is long) or choose a lower effort."
                   if self.history else "Choose a lower effort, or start a new chat.")
        return (f"Not enough free memory for this answer: it needs about {need:.1f} GB and "
                f"{free:.1f} GB are free. {way_out}")


class CancelledError(PonderError):
    """The user stopped the request. Never shown as an error."""

    exit_code = 130

    def user_message(self) -> str:
        return "Stopped."


class EngineFailureError(PonderError):
    """onnxruntime-genai failed in a way the engine did not expect."""

    exit_code = 6

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def user_message(self) -> str:
        return f"The inference engine failed: {self.detail.strip()}"


class BadRequestError(PonderError):
    """A request the engine refuses before running (bad option values)."""

    exit_code = 2

    def user_message(self) -> str:
        return str(self)


def user_message(error: BaseException) -> str:
    """Text for any exception: typed errors speak for themselves, others are summarised."""
    if isinstance(error, PonderError):
        return error.user_message()
    return f"Unexpected error: {type(error).__name__}: {error}"
