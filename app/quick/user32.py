"""Windows' user32.dll, for the modules that press keys or register a hotkey there."""

from __future__ import annotations

import ctypes
import sys
from typing import Any


def load_user32(*, use_last_error: bool = False) -> Any:
    """user32.dll through ctypes. Callers ask only on Windows; elsewhere it is an OSError, as a
    missing DLL would be (ctypes.WinDLL exists only on Windows, which the type checker knows)."""
    if sys.platform == "win32":
        return ctypes.WinDLL("user32", use_last_error=use_last_error)
    raise OSError(f"user32.dll exists only on Windows, not on {sys.platform}")
