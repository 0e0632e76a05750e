"""A fake Windows machine for the hand-over pipe: users, processes and named pipes behind
kernel32/advapi32 functions that hold their documented C signatures (from the Windows SDK headers,
written out here independently of the code under test).

As in tests/app/quick/native_fakes.py: a misspelt function is an AttributeError, a missing or
extra argument a TypeError, an argument ctypes could not convert a ctypes.ArgumentError, and a
return value must fit the return type. Out-parameters are written through the pointers the code
passes (ctypes.byref), and SIDs, strings and security descriptors live at real addresses, so the
code reads them back exactly as it would from Windows.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from ctypes import wintypes
from dataclasses import dataclass, field
from typing import Any

from engine.quick_actions.pipe_windows import SECURITY_ATTRIBUTES, TOKEN_USER, WinApi

H, D, B = wintypes.HANDLE, wintypes.DWORD, wintypes.BOOL
P = ctypes.POINTER

# fileapi.h, namedpipeapi.h, winbase.h, processthreadsapi.h, handleapi.h
KERNEL32 = {
    "CreateFileW": ((wintypes.LPCWSTR, D, D, P(SECURITY_ATTRIBUTES), D, D, H), H),
    "CreateNamedPipeW": ((wintypes.LPCWSTR, D, D, D, D, D, D, P(SECURITY_ATTRIBUTES)), H),
    "WaitNamedPipeW": ((wintypes.LPCWSTR, D), B),
    "GetNamedPipeServerProcessId": ((H, P(wintypes.ULONG)), B),
    "PeekNamedPipe": ((H, wintypes.LPVOID, D, P(D), P(D), P(D)), B),
    "ReadFile": ((H, wintypes.LPVOID, D, P(D), wintypes.LPVOID), B),
    "WriteFile": ((H, wintypes.LPCVOID, D, P(D), wintypes.LPVOID), B),
    "OpenProcess": ((D, B, D), H),
    "GetCurrentProcess": ((), H),
    "CloseHandle": ((H,), B),
    "LocalFree": ((wintypes.HLOCAL,), wintypes.HLOCAL),
}
# processthreadsapi.h, securitybaseapi.h, aclapi.h, sddl.h (PSID and descriptors are pointers)
ADVAPI32 = {
    "OpenProcessToken": ((H, D, P(H)), B),
    "GetTokenInformation": ((H, ctypes.c_int, wintypes.LPVOID, D, P(D)), B),
    "EqualSid": ((ctypes.c_void_p, ctypes.c_void_p), B),
    "GetSecurityInfo": ((H, ctypes.c_int, D, P(ctypes.c_void_p), P(ctypes.c_void_p), P(ctypes.c_void_p),
                         P(ctypes.c_void_p), P(ctypes.c_void_p)), D),
    "ConvertSidToStringSidW": ((ctypes.c_void_p, P(wintypes.LPWSTR)), B),
    "ConvertStringSecurityDescriptorToSecurityDescriptorW": (
        (wintypes.LPCWSTR, D, P(ctypes.c_void_p), P(wintypes.ULONG)), B),
}

INVALID = ctypes.c_void_p(-1).value
ME, OTHER = "S-1-5-21-1004336348-1177238915-682003330-1001", "S-1-5-21-1004336348-1177238915-682003330-1002"


class SignedLibrary:
    """Functions from `table`, implemented by `impl`; every call is checked and recorded."""

    def __init__(self, table: dict, impl: dict[str, Callable[..., Any]]) -> None:
        self._table, self._impl = table, impl
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or name not in self._table:
            raise AttributeError(f"function '{name}' not found")
        argtypes, restype = self._table[name]

        def call(*args: Any) -> Any:
            if len(args) != len(argtypes):
                raise TypeError(f"{name}() takes {len(argtypes)} arguments ({len(args)} given)")
            for number, (kind, value) in enumerate(zip(argtypes, args), start=1):
                try:
                    kind.from_param(value)
                except Exception as exc:  # noqa: BLE001 - ctypes raises several types
                    raise ctypes.ArgumentError(f"{name}: argument {number}: {exc}") from None
            self.calls.append((name, *args))
            result = self._impl[name](*args)
            restype(result)  # raises if it does not fit
            return result

        return call


def sid_bytes(text: str) -> bytes:
    """A SID in its binary form (revision, count, 48-bit authority, 32-bit sub-authorities)."""
    parts = [int(p) for p in text.split("-")[1:]]
    revision, authority, subs = parts[0], parts[1], parts[2:]
    return bytes([revision, len(subs)]) + authority.to_bytes(6, "big") + b"".join(
        s.to_bytes(4, "little") for s in subs)


def sid_at(address: int) -> str:
    head = ctypes.string_at(address, 8)
    raw = ctypes.string_at(address, 8 + 4 * head[1])
    subs = [int.from_bytes(raw[8 + 4 * i:12 + 4 * i], "little") for i in range(head[1])]
    return "S-" + "-".join(str(n) for n in [raw[0], int.from_bytes(raw[2:8], "big"), *subs])


def _value(arg: Any) -> Any:
    return getattr(arg, "value", arg)


def _out(pointer: Any) -> Any:
    """The variable a ctypes.byref() points at."""
    return pointer._obj


@dataclass
class Pipe:
    owner: str
    server_pid: int
    sddl: str | None  # None: a default-style DACL that admits everyone
    received: bytearray = field(default_factory=bytearray)
    reply: bytes = b"ok\n"

    def admits(self, user: str) -> bool:
        return self.sddl is None or f";;;{user})" in self.sddl


class FakeWindows:
    """One machine. `me` runs this process (pid 100); processes maps pid → user."""

    def __init__(self) -> None:
        self.processes: dict[int, str] = {100: ME}
        self.unopenable: set[int] = set()  # OpenProcess is refused for these pids
        self.token_denied: set[int] = set()  # OpenProcessToken is refused for these
        self.pipes: dict[str, Pipe] = {}
        self.error = 0
        self._handles: dict[int, tuple[str, Any]] = {}
        self._next = 0x40
        self.allocated: dict[int, Any] = {}  # LocalAlloc'd address → its buffer
        self._sids: dict[str, Any] = {}
        self.descriptors: dict[int, str] = {}
        self.open_flags: list[int] = []
        self.created: list[tuple[str, int, str | None]] = []
        self.kernel32 = SignedLibrary(KERNEL32, {name: getattr(self, "_" + name) for name in KERNEL32})
        self.advapi32 = SignedLibrary(ADVAPI32, {name: getattr(self, "_" + name) for name in ADVAPI32})
        self.api = WinApi(self.kernel32, self.advapi32, lambda: self.error)

    # --- set-up ---

    def pipe_of(self, user: str, name: str, *, pid: int = 200, sddl: str | None = None) -> Pipe:
        """A pipe `\\\\.\\pipe\\name` served by process `pid` of `user`."""
        self.processes[pid] = user
        pipe = self.pipes[name] = Pipe(user, pid, sddl)
        return pipe

    @property
    def open_handles(self) -> list[str]:
        return [kind for kind, _ in self._handles.values()]

    # --- helpers ---

    def _handle(self, kind: str, what: Any) -> int:
        self._next += 4
        self._handles[self._next] = (kind, what)
        return self._next

    def _fail(self, error: int, result: Any = 0) -> Any:
        self.error = error
        return result

    def _sid(self, user: str) -> int:
        if user not in self._sids:
            self._sids[user] = ctypes.create_string_buffer(sid_bytes(user))
        return ctypes.addressof(self._sids[user])

    def _alloc(self, buffer: Any) -> int:
        address = ctypes.addressof(buffer)
        self.allocated[address] = buffer
        return address

    def _pipe(self, handle: int) -> Pipe:
        kind, what = self._handles[_value(handle)]
        assert kind in ("client", "server"), kind
        return what

    # --- kernel32 ---

    def _CreateFileW(self, name, access, share, attributes, disposition, flags, template):  # noqa: N802
        pipe = self.pipes.get(name)
        if pipe is None:
            return self._fail(2, INVALID)
        if not pipe.admits(ME):
            return self._fail(5, INVALID)
        self.open_flags.append(flags)
        return self._handle("client", pipe)

    def _CreateNamedPipeW(self, name, open_mode, pipe_mode, instances, out, inn, timeout, attributes):  # noqa: N802
        sddl = self.descriptors.get(_out(attributes).lpSecurityDescriptor) if attributes is not None else None
        existing = self.pipes.get(name)
        if existing is not None and (open_mode & 0x00080000 or not existing.admits(ME)):
            return self._fail(5, INVALID)
        self.created.append((name, open_mode, sddl))
        pipe = existing or self.pipe_of(ME, name, pid=100, sddl=sddl)
        return self._handle("server", pipe)

    def _WaitNamedPipeW(self, name, timeout):  # noqa: N802
        return 1

    def _GetNamedPipeServerProcessId(self, handle, pid):  # noqa: N802
        _out(pid).value = self._pipe(handle).server_pid
        return 1

    def _PeekNamedPipe(self, handle, buffer, size, read, available, left):  # noqa: N802
        _out(available).value = len(self._pipe(handle).reply)
        return 1

    def _ReadFile(self, handle, buffer, size, read, overlapped):  # noqa: N802
        pipe = self._pipe(handle)
        piece, pipe.reply = pipe.reply[:size], pipe.reply[size:]
        ctypes.memmove(buffer, piece, len(piece))
        _out(read).value = len(piece)
        return 1

    def _WriteFile(self, handle, data, size, written, overlapped):  # noqa: N802
        self._pipe(handle).received.extend(data[:size])
        _out(written).value = size
        return 1

    def _OpenProcess(self, access, inherit, pid):  # noqa: N802
        if pid in self.unopenable or pid not in self.processes:
            return self._fail(5, None)
        return self._handle("process", pid)

    def _GetCurrentProcess(self):  # noqa: N802
        return INVALID  # the pseudo-handle (HANDLE)-1

    def _CloseHandle(self, handle):  # noqa: N802
        assert self._handles.pop(_value(handle), None) is not None, "closed twice, or never opened"
        return 1

    def _LocalFree(self, address):  # noqa: N802
        assert self.allocated.pop(_value(address), None) is not None, "freed twice, or never allocated"
        return None

    # --- advapi32 ---

    def _OpenProcessToken(self, process, access, token):  # noqa: N802
        pid = 100 if _value(process) == INVALID else self._handles[_value(process)][1]
        if pid in self.token_denied:
            return self._fail(5)
        _out(token).value = self._handle("token", self.processes[pid])
        return 1

    def _GetTokenInformation(self, token, kind, buffer, length, needed):  # noqa: N802
        kind_name, user = self._handles[_value(token)]
        assert kind_name == "token" and kind == 1
        size = ctypes.sizeof(TOKEN_USER) + len(sid_bytes(user))
        _out(needed).value = size
        if buffer is None or _value(length) < size:
            return self._fail(122)
        TOKEN_USER.from_buffer(buffer).User.Sid = self._sid(user)
        return 1

    def _EqualSid(self, first, second):  # noqa: N802
        return int(sid_at(_value(first)) == sid_at(_value(second)))

    def _GetSecurityInfo(self, handle, kind, info, owner, group, dacl, sacl, descriptor):  # noqa: N802
        assert (kind, info) == (6, 1) and group is None and dacl is None and sacl is None
        _out(owner).value = self._sid(self._pipe(handle).owner)
        _out(descriptor).value = self._alloc(ctypes.create_string_buffer(64))
        return 0

    def _ConvertSidToStringSidW(self, sid, text):  # noqa: N802
        address = self._alloc(ctypes.create_unicode_buffer(sid_at(_value(sid))))
        ctypes.memmove(ctypes.addressof(_out(text)), ctypes.byref(ctypes.c_void_p(address)),
                       ctypes.sizeof(ctypes.c_void_p))
        return 1

    def _ConvertStringSecurityDescriptorToSecurityDescriptorW(self, sddl, revision, descriptor, size):  # noqa: N802
        address = self._alloc(ctypes.create_string_buffer(64))
        self.descriptors[address] = sddl
        _out(descriptor).value = address
        return 1
