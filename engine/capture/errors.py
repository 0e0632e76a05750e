"""Typed capture errors, worded for a person."""

from __future__ import annotations

from engine.errors import PonderError


class CaptureError(PonderError):
    """Text could not be captured from the chosen source."""

    exit_code = 7

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def user_message(self) -> str:
        return self.message


class CaptureUnavailableError(CaptureError):
    """This platform or session does not offer the source (e.g. no X11 PRIMARY on Windows)."""
