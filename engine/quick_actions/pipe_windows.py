"""The hand-over's named pipe on Windows: talk only to a pipe of this user, and claim the name first.

A pipe name is global on the machine, so another signed-in user could create `\\\\.\\pipe\\ponder-…`
before us: our `ponder act` would then give them the selected text, and QLocalServer (which does
not ask for FILE_FLAG_FIRST_PIPE_INSTANCE) might even add its instances to their pipe. So:

* Client side (`exchange`): the pipe is opened with SECURITY_IDENTIFICATION (the server cannot
  act as us), then its server is checked before a byte is written: the user in the server
  process's token must be ours (GetNamedPipeServerProcessId → OpenProcess → OpenProcessToken →
  TokenUser → EqualSid). Where the server's token cannot be read, the pipe's owner (GetSecurityInfo)
  must be ours. Otherwise ForeignPipeError, with a clear message.
* Server side (`claim_pipe`): the first instance is created with FILE_FLAG_FIRST_PIPE_INSTANCE and a
  DACL that admits this user only, so a name someone else holds is refused; QLocalServer then adds
  its instances to our pipe and the claim's own instance is closed.

Every Win32 call goes through `WinApi`, whose functions carry their documented signatures; tests
pass fakes with the same signatures (this cannot run on Linux).
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from ctypes import wintypes
from dataclasses import dataclass
from typing import Any

from engine.errors import PonderError

GENERIC_READ, GENERIC_WRITE = 0x80000000, 0x40000000
OPEN_EXISTING = 3
SECURITY_SQOS_PRESENT, SECURITY_IDENTIFICATION = 0x00100000, 0x00010000
PIPE_ACCESS_DUPLEX, FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00000003, 0x00080000
# As QLocalServer creates its instances (they must agree with the first one's).
PIPE_TYPE_BYTE, PIPE_READMODE_BYTE, PIPE_WAIT, PIPE_UNLIMITED_INSTANCES = 0, 0, 0, 255
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
TOKEN_QUERY = 0x0008
TOKEN_USER_CLASS = 1  # TOKEN_INFORMATION_CLASS.TokenUser
SE_KERNEL_OBJECT = 6
OWNER_SECURITY_INFORMATION = 0x1
SDDL_REVISION_1 = 1
ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED = 2, 5
ERROR_INSUFFICIENT_BUFFER, ERROR_PIPE_BUSY = 122, 231
INVALID_HANDLE_VALUE = ctypes.c_void_p(-1).value
PIPE_PREFIX = "\\\\.\\pipe\\"

HANDLE, DWORD, BOOL = wintypes.HANDLE, wintypes.DWORD, wintypes.BOOL
PSID = ctypes.c_void_p


class SECURITY_ATTRIBUTES(ctypes.Structure):  # noqa: N801 - the Win32 name
    _fields_ = [("nLength", DWORD), ("lpSecurityDescriptor", ctypes.c_void_p), ("bInheritHandle", BOOL)]


class SID_AND_ATTRIBUTES(ctypes.Structure):  # noqa: N801
    _fields_ = [("Sid", PSID), ("Attributes", DWORD)]


class TOKEN_USER(ctypes.Structure):  # noqa: N801
    _fields_ = [("User", SID_AND_ATTRIBUTES)]


#: name → (argtypes, restype), as declared in the Windows SDK headers.
KERNEL32: dict[str, tuple[tuple[Any, ...], Any]] = {
    "CreateFileW": ((wintypes.LPCWSTR, DWORD, DWORD, ctypes.POINTER(SECURITY_ATTRIBUTES), DWORD, DWORD, HANDLE),
                    HANDLE),
    "CreateNamedPipeW": ((wintypes.LPCWSTR, DWORD, DWORD, DWORD, DWORD, DWORD, DWORD,
                          ctypes.POINTER(SECURITY_ATTRIBUTES)), HANDLE),
    "WaitNamedPipeW": ((wintypes.LPCWSTR, DWORD), BOOL),
    "GetNamedPipeServerProcessId": ((HANDLE, ctypes.POINTER(wintypes.ULONG)), BOOL),
    "PeekNamedPipe": ((HANDLE, wintypes.LPVOID, DWORD, ctypes.POINTER(DWORD), ctypes.POINTER(DWORD),
                       ctypes.POINTER(DWORD)), BOOL),
    "ReadFile": ((HANDLE, wintypes.LPVOID, DWORD, ctypes.POINTER(DWORD), wintypes.LPVOID), BOOL),
    "WriteFile": ((HANDLE, wintypes.LPCVOID, DWORD, ctypes.POINTER(DWORD), wintypes.LPVOID), BOOL),
    "OpenProcess": ((DWORD, BOOL, DWORD), HANDLE),
    "GetCurrentProcess": ((), HANDLE),
    "CloseHandle": ((HANDLE,), BOOL),
    "LocalFree": ((wintypes.HLOCAL,), wintypes.HLOCAL),
}
ADVAPI32: dict[str, tuple[tuple[Any, ...], Any]] = {
    "OpenProcessToken": ((HANDLE, DWORD, ctypes.POINTER(HANDLE)), BOOL),
    "GetTokenInformation": ((HANDLE, ctypes.c_int, wintypes.LPVOID, DWORD, ctypes.POINTER(DWORD)), BOOL),
    "EqualSid": ((PSID, PSID), BOOL),
    "GetSecurityInfo": ((HANDLE, ctypes.c_int, DWORD, ctypes.POINTER(PSID), ctypes.POINTER(PSID),
                         ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p),
                         ctypes.POINTER(ctypes.c_void_p)), DWORD),
    "ConvertSidToStringSidW": ((PSID, ctypes.POINTER(wintypes.LPWSTR)), BOOL),
    "ConvertStringSecurityDescriptorToSecurityDescriptorW": (
        (wintypes.LPCWSTR, DWORD, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(wintypes.ULONG)), BOOL),
}


class ForeignPipeError(PonderError):
    """The hand-over pipe is served by another user's program (or its owner cannot be told)."""

    def __init__(self, pipe: str, detail: str) -> None:
        super().__init__(f"{pipe}: {detail}")
        self.pipe, self.detail = pipe, detail

    def user_message(self) -> str:
        return (f"The pipe {self.pipe} is not this user's ({self.detail}); Ponder will not hand the "
                "text to it. Another user's program may be posing as Ponder.")


@dataclass
class WinApi:
    """kernel32 and advapi32 with their signatures set, and the thread's last Win32 error."""

    kernel32: Any
    advapi32: Any
    last_error: Callable[[], int]

    @classmethod
    def load(cls) -> WinApi:  # pragma: no cover - Windows (tests check its signatures)
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined]
        for library, table in ((kernel32, KERNEL32), (advapi32, ADVAPI32)):
            for name, (argtypes, restype) in table.items():
                function = getattr(library, name)
                function.argtypes, function.restype = argtypes, restype
        return cls(kernel32, advapi32, ctypes.get_last_error)  # type: ignore[attr-defined]


def _ok_handle(handle: int | None) -> bool:
    return handle not in (None, 0, INVALID_HANDLE_VALUE)


class _Token:
    """A token's user SID, read into a buffer that lives as long as this object."""

    def __init__(self, api: WinApi, process: int | None) -> None:
        token = HANDLE()
        if not api.advapi32.OpenProcessToken(process, TOKEN_QUERY, ctypes.byref(token)):
            raise OSError(api.last_error(), "OpenProcessToken failed")
        try:
            needed = DWORD(0)
            api.advapi32.GetTokenInformation(token, TOKEN_USER_CLASS, None, 0, ctypes.byref(needed))
            if api.last_error() != ERROR_INSUFFICIENT_BUFFER or not needed.value:
                raise OSError(api.last_error(), "GetTokenInformation failed")
            self.buffer = ctypes.create_string_buffer(needed.value)
            if not api.advapi32.GetTokenInformation(token, TOKEN_USER_CLASS, self.buffer, needed,
                                                    ctypes.byref(needed)):
                raise OSError(api.last_error(), "GetTokenInformation failed")
        finally:
            api.kernel32.CloseHandle(token)
        self.sid = TOKEN_USER.from_buffer(self.buffer).User.Sid


def current_user(api: WinApi) -> _Token:
    """This process's user."""
    return _Token(api, api.kernel32.GetCurrentProcess())


def sid_text(api: WinApi, sid: int) -> str:
    """A SID as "S-1-5-21-…" (for messages and the SDDL)."""
    text = wintypes.LPWSTR()
    if not api.advapi32.ConvertSidToStringSidW(sid, ctypes.byref(text)):
        raise OSError(api.last_error(), "ConvertSidToStringSidW failed")
    try:
        return str(text.value)
    finally:
        api.kernel32.LocalFree(ctypes.cast(text, ctypes.c_void_p))


def check_server(api: WinApi, handle: int, pipe: str) -> None:
    """Raise ForeignPipeError unless the pipe's server runs as this user."""
    me = current_user(api)
    pid = wintypes.ULONG(0)
    if not api.kernel32.GetNamedPipeServerProcessId(handle, ctypes.byref(pid)):
        raise ForeignPipeError(pipe, f"its server process is unknown (error {api.last_error()})")
    process = api.kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid.value)
    if _ok_handle(process):
        try:
            server = _Token(api, process)
        except OSError:
            server = None  # e.g. an elevated Ponder seen from a normal one: ask the pipe instead
        finally:
            api.kernel32.CloseHandle(process)
        if server is not None:
            if api.advapi32.EqualSid(me.sid, server.sid):
                return
            raise ForeignPipeError(pipe, f"its server runs as {sid_text(api, server.sid)}")
    _check_owner(api, handle, pipe, me)


def _check_owner(api: WinApi, handle: int, pipe: str, me: _Token) -> None:
    """The fallback: the pipe object's owner must be this user."""
    owner, descriptor = PSID(), ctypes.c_void_p()
    status = api.advapi32.GetSecurityInfo(handle, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION,
                                          ctypes.byref(owner), None, None, None, ctypes.byref(descriptor))
    if status != 0:
        raise ForeignPipeError(pipe, f"neither its server nor its owner can be checked (error {status})")
    try:
        if not api.advapi32.EqualSid(me.sid, owner):
            raise ForeignPipeError(pipe, f"it belongs to {sid_text(api, owner.value or 0)}")
    finally:
        api.kernel32.LocalFree(descriptor)


def exchange(api: WinApi, name: str, line: bytes, *, timeout: float) -> bytes:
    """Send one line to this user's Ponder listening on pipe `name`; its reply (up to a newline).

    Raises FileNotFoundError when nothing listens, ForeignPipeError when another user's program
    does, TimeoutError when it does not answer in time, OSError otherwise.
    """
    pipe = PIPE_PREFIX + name
    handle = _open(api, pipe, timeout)
    try:
        check_server(api, handle, pipe)  # before a byte of the user's text leaves
        _write(api, handle, line)
        return _read_line(api, handle, time.monotonic() + timeout)
    finally:
        api.kernel32.CloseHandle(handle)


def _open(api: WinApi, pipe: str, timeout: float) -> int:
    for attempt in range(2):
        handle = api.kernel32.CreateFileW(pipe, GENERIC_READ | GENERIC_WRITE, 0, None, OPEN_EXISTING,
                                          SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, None)
        if _ok_handle(handle):
            return int(handle)
        error = api.last_error()
        if error == ERROR_PIPE_BUSY and attempt == 0:
            api.kernel32.WaitNamedPipeW(pipe, int(timeout * 1000))  # every instance busy: wait once
            continue
        if error == ERROR_FILE_NOT_FOUND:
            raise FileNotFoundError(error, "no Ponder is listening", pipe)
        if error == ERROR_ACCESS_DENIED:  # ours admits us: this one was made by someone else
            raise ForeignPipeError(pipe, "it does not let this user in")
        break
    raise OSError(api.last_error(), "the pipe could not be opened", pipe)


def _write(api: WinApi, handle: int, data: bytes) -> None:
    written = DWORD(0)
    while data:
        if not api.kernel32.WriteFile(handle, data, len(data), ctypes.byref(written), None):
            raise OSError(api.last_error(), "WriteFile failed")
        data = data[written.value:]


def _read_line(api: WinApi, handle: int, deadline: float) -> bytes:
    """Read until a newline (or 64 bytes), waiting no later than `deadline` for each piece."""
    data, buffer = b"", ctypes.create_string_buffer(64)
    available, got = DWORD(0), DWORD(0)
    while not data.endswith(b"\n") and len(data) < 64:
        if not api.kernel32.PeekNamedPipe(handle, None, 0, None, ctypes.byref(available), None):
            break  # the server closed the pipe
        if not available.value:
            if time.monotonic() > deadline:
                raise TimeoutError("the running Ponder did not answer")
            time.sleep(0.01)  # a blocking ReadFile could wait for ever on a hung server
            continue
        if not api.kernel32.ReadFile(handle, buffer, min(available.value, 64 - len(data)), ctypes.byref(got), None):
            break
        data += buffer.raw[:got.value]
    return data


class PipeClaim:
    """The first instance of our pipe, made so that nobody else can hold the name; close() it once
    QLocalServer has added its own instances."""

    def __init__(self, api: WinApi, handle: int) -> None:
        self.api, self.handle = api, handle

    def close(self) -> None:
        if self.handle:
            self.api.kernel32.CloseHandle(self.handle)
            self.handle = 0


def claim_pipe(api: WinApi, name: str) -> PipeClaim | None:
    """Create pipe `name` as its first instance, open to this user only; None if the name is
    already taken (by a running Ponder of ours, or by someone else: ask with exchange())."""
    me = current_user(api)
    sddl = f"D:P(A;;GA;;;{sid_text(api, me.sid)})"  # protected DACL: this user, full access; no one else
    descriptor = ctypes.c_void_p()
    if not api.advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1,
                                                                             ctypes.byref(descriptor), None):
        raise OSError(api.last_error(), "the pipe's security descriptor could not be made")
    try:
        attributes = SECURITY_ATTRIBUTES(ctypes.sizeof(SECURITY_ATTRIBUTES), descriptor.value, False)
        handle = api.kernel32.CreateNamedPipeW(
            PIPE_PREFIX + name, PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, PIPE_UNLIMITED_INSTANCES, 0, 0, 3000,
            ctypes.byref(attributes))
    finally:
        api.kernel32.LocalFree(descriptor)
    if _ok_handle(handle):
        return PipeClaim(api, int(handle))
    if api.last_error() == ERROR_ACCESS_DENIED:  # FILE_FLAG_FIRST_PIPE_INSTANCE: the name exists
        return None
    raise OSError(api.last_error(), "the pipe could not be created", PIPE_PREFIX + name)
