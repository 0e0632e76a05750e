"""The Windows version resource of ponder.exe (Properties ▸ Details), from the package version."""

from __future__ import annotations

from packaging.version import Version


def version_numbers(version: str) -> tuple[int, int, int, int]:
    """The release part, four numbers: '0.1.0' -> (0, 1, 0, 0), '2.0rc1' -> (2, 0, 0, 0)."""
    numbers = list(Version(version).release[:4])
    return tuple(numbers + [0] * (4 - len(numbers)))  # type: ignore[return-value]


def version_info(version: str):
    """A PyInstaller VSVersionInfo for EXE(version=...)."""
    from PyInstaller.utils.win32.versioninfo import (
        FixedFileInfo,
        StringFileInfo,
        StringStruct,
        StringTable,
        VarFileInfo,
        VarStruct,
        VSVersionInfo,
    )

    numbers = version_numbers(version)
    strings = {
        "CompanyName": "Ponder",
        "FileDescription": "Ponder, an offline reasoning assistant",
        "FileVersion": version,
        "InternalName": "ponder",
        "OriginalFilename": "ponder.exe",
        "ProductName": "Ponder",
        "ProductVersion": version,
    }
    return VSVersionInfo(
        ffi=FixedFileInfo(filevers=numbers, prodvers=numbers),
        kids=[
            StringFileInfo([StringTable("040904B0", [StringStruct(k, v) for k, v in strings.items()])]),
            VarFileInfo([VarStruct("Translation", [0x0409, 1200])]),  # US English, Unicode
        ],
    )
