"""Stand-ins for user32.dll, Carbon, ApplicationServices and CoreFoundation that hold each
function's documented C signature, so a misspelt name, a missing or extra argument, or an
argument ctypes could not convert fails here as it would on the real system.

Each fake answers only the functions in its table (any other name is an AttributeError, as
ctypes gives for a symbol a library does not export), converts every argument with ctypes'
own `from_param` for the documented type, and checks that what it returns fits the return type.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.quick.hotkey_macos import EventHandlerProc, EventHotKeyID, EventTypeSpec


@dataclass(frozen=True)
class Signature:
    """A C function's argument types and return type (None: void)."""

    argtypes: tuple[Any, ...]
    restype: Any


# user32.dll (WinUser.h). BOOL is int; HWND a pointer; keybd_event's extra info a ULONG_PTR.
USER32 = {
    "keybd_event": Signature((ctypes.c_ubyte, ctypes.c_ubyte, ctypes.c_uint32, ctypes.c_size_t), None),
    "GetAsyncKeyState": Signature((ctypes.c_int,), ctypes.c_short),
    "RegisterHotKey": Signature((ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint), ctypes.c_int),
    "UnregisterHotKey": Signature((ctypes.c_void_p, ctypes.c_int), ctypes.c_int),
}

# Carbon (CarbonEvents.h): OSStatus is SInt32; EventTargetRef, EventHandlerRef, EventHotKeyRef are pointers.
CARBON = {
    "GetApplicationEventTarget": Signature((), ctypes.c_void_p),
    "InstallEventHandler": Signature((ctypes.c_void_p, EventHandlerProc, ctypes.c_uint32,
                                      ctypes.POINTER(EventTypeSpec), ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_void_p)), ctypes.c_int32),
    "RemoveEventHandler": Signature((ctypes.c_void_p,), ctypes.c_int32),
    "RegisterEventHotKey": Signature((ctypes.c_uint32, ctypes.c_uint32, EventHotKeyID, ctypes.c_void_p,
                                      ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p)), ctypes.c_int32),
    "UnregisterEventHotKey": Signature((ctypes.c_void_p,), ctypes.c_int32),
}

# ApplicationServices (AXUIElement.h, CGEvent.h, CGEventSource.h).
QUARTZ = {
    "AXIsProcessTrusted": Signature((), ctypes.c_bool),
    "CGEventCreateKeyboardEvent": Signature((ctypes.c_void_p, ctypes.c_uint16, ctypes.c_bool), ctypes.c_void_p),
    "CGEventSetFlags": Signature((ctypes.c_void_p, ctypes.c_uint64), None),
    "CGEventPost": Signature((ctypes.c_uint32, ctypes.c_void_p), None),
    "CGEventSourceFlagsState": Signature((ctypes.c_int32,), ctypes.c_uint64),
}

# CoreFoundation (CFBase.h).
CORE_FOUNDATION = {
    "CFRelease": Signature((ctypes.c_void_p,), None),
}


class NativeLibrary:
    """A library whose functions are the `table`'s, implemented by `impl` (name -> callable);
    functions without an implementation return 0 (or nothing when void). Every call is recorded."""

    def __init__(self, table: dict[str, Signature], **impl: Callable[..., Any]) -> None:
        unknown = set(impl) - set(table)
        if unknown:
            raise AssertionError(f"no such function in this library: {sorted(unknown)}")
        self._table, self._impl = table, impl
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or name not in self._table:
            raise AttributeError(f"function '{name}' not found")
        signature = self._table[name]

        def call(*args: Any) -> Any:
            if len(args) != len(signature.argtypes):
                raise TypeError(f"{name}() takes {len(signature.argtypes)} arguments ({len(args)} given)")
            for number, (kind, value) in enumerate(zip(signature.argtypes, args), start=1):
                try:
                    kind.from_param(value)
                except Exception as exc:  # noqa: BLE001 - ctypes raises several types; report as ctypes does
                    raise ctypes.ArgumentError(f"{name}: argument {number}: {exc}") from None
            self.calls.append((name, *args))
            result = self._impl[name](*args) if name in self._impl else (None if signature.restype is None else 0)
            if signature.restype is None:
                assert result is None, f"{name} returns void"
            else:
                signature.restype(result)  # raises if the value does not fit the return type
            return result

        return call


def set_signatures(library: Any) -> dict[str, tuple[Any, Any]]:
    """What code set on a ctypes library object: {name: (argtypes, restype)}."""
    return {name: (tuple(f.argtypes) if f.argtypes is not None else None, f.restype)
            for name, f in library.functions.items()}


class SignatureRecorder:
    """Stands in for ctypes.CDLL(path) to record the argtypes/restype code sets on each function."""

    class _Function:
        def __init__(self) -> None:
            self.argtypes = None
            self.restype = ctypes.c_int  # ctypes' default

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        self.functions: dict[str, SignatureRecorder._Function] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.functions.setdefault(name, SignatureRecorder._Function())
