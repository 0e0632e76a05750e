"""user32.dll is loaded only on Windows; elsewhere the caller gets an OSError, not an AttributeError."""

from __future__ import annotations

import sys

import pytest

from app.quick.user32 import load_user32


@pytest.mark.skipif(sys.platform == "win32", reason="the DLL exists there")
def test_outside_windows_asking_for_user32_is_an_os_error():
    with pytest.raises(OSError, match="only on Windows"):
        load_user32()
