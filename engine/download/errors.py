"""Typed download and install errors, each with a next step for the user."""

from __future__ import annotations

from engine.errors import PonderError


class DownloadError(PonderError):
    """A download or install that did not complete. The model stays absent."""

    exit_code = 7


class HubUnreachableError(DownloadError):
    """The network or the server failed."""

    def user_message(self) -> str:
        return (f"The download failed: {self}. Check the connection and try again; "
                "what was already downloaded is kept and the download resumes.")


class FileNotOnHubError(DownloadError):
    """The repository, revision or file does not exist on the server (HTTP 404)."""

    def user_message(self) -> str:
        return (f"The model files were not found on the server: {self}. The catalog may be out "
                "of date; update Ponder or import the model folder instead.")


class NotEnoughSpaceError(DownloadError):
    """Not enough free disk space, before starting or while writing."""

    def __init__(self, needed: int, free: int, where: str) -> None:
        super().__init__(f"{needed} bytes needed, {free} free in {where}")
        self.needed, self.free, self.where = needed, free, where

    def user_message(self) -> str:
        if not self.needed:
            return (f"The disk filled up while downloading to {self.where}. Free some space and "
                    "try again; the download resumes where it stopped.")
        return (f"Not enough disk space: the model needs {self.needed / 1e9:.1f} GB more and "
                f"{self.free / 1e9:.1f} GB are free in {self.where}. Free some space and try again.")


class IntegrityError(DownloadError):
    """A file's bytes do not match its recorded hash or size. The file was deleted."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file, self.reason = file, reason

    def user_message(self) -> str:
        return (f"{self.file} failed verification ({self.reason}) and was deleted. "
                "Download it again; if this repeats, the server or the disk is damaging data.")


class DownloadStopped(DownloadError):
    """The user paused or cancelled. Never shown as an error."""

    exit_code = 130

    def __init__(self, cancelled: bool) -> None:
        super().__init__("cancelled" if cancelled else "paused")
        self.cancelled = cancelled

    def user_message(self) -> str:
        return "Download cancelled." if self.cancelled else "Download paused; run it again to resume."


class InstallError(DownloadError):
    """The model cannot be installed, removed or imported (name clash, bad folder)."""

    exit_code = 3


class ModelDamagedError(DownloadError):
    """An installed model's files changed since they were verified; it is not loaded."""

    exit_code = 3

    def __init__(self, name: str, file: str, reason: str) -> None:
        super().__init__(f"{name}: {file}: {reason}")
        self.name, self.file, self.reason = name, file, reason

    def user_message(self) -> str:
        return (f"The installed model '{self.name}' is damaged ({self.file}: {self.reason}), so it was "
                f"not loaded. Download or import it again (ponder models remove {self.name}, then "
                "ponder models download …), or open File → Models….")
