"""The Windows hand-over pipe, on a fake Windows whose kernel32/advapi32 keep the real signatures:
a pipe of another user is refused before the text is written, ours takes it, and the app claims
the pipe name so that nobody else can hold it (issue #15)."""

from __future__ import annotations

import ctypes
import logging

import pytest

from engine.quick_actions import pipe_windows
from engine.quick_actions.handoff import hand_over_pipe
from engine.quick_actions.pipe_windows import ForeignPipeError, WinApi, claim_pipe, exchange
from tests.engine.quick_actions.windows_fakes import ADVAPI32, KERNEL32, ME, OTHER, FakeWindows

NAME = "ponder-0123456789abcdef"
PIPE = "\\\\.\\pipe\\" + NAME
LINE = b'{"text": "the secret selection"}\n'


@pytest.fixture
def windows() -> FakeWindows:
    return FakeWindows()


def no_leaks(windows: FakeWindows) -> bool:
    """Every handle the client opened is closed and every LocalAlloc'd block freed."""
    return not windows.allocated and all(kind == "server" for kind in windows.open_handles)


def test_our_own_pipe_takes_the_request(windows):
    claim = claim_pipe(windows.api, NAME)
    assert claim is not None
    assert hand_over_pipe(windows.api, NAME, LINE) is True
    assert bytes(windows.pipes[PIPE].received) == LINE
    # Opened so that the server can identify us but never act as us.
    assert windows.open_flags == [pipe_windows.SECURITY_SQOS_PRESENT | pipe_windows.SECURITY_IDENTIFICATION]
    claim.close()
    assert no_leaks(windows) and not windows.open_handles


def test_another_users_pipe_is_refused_before_the_text_is_written(windows, caplog):
    pipe = windows.pipe_of(OTHER, PIPE)  # made first, with a DACL that lets everyone in
    with pytest.raises(ForeignPipeError) as error:
        exchange(windows.api, NAME, LINE, timeout=1)
    assert OTHER in error.value.user_message() and "will not hand the text" in error.value.user_message()
    with caplog.at_level(logging.WARNING, logger="engine.quick_actions.handoff"):
        assert hand_over_pipe(windows.api, NAME, LINE) is False
    assert "not this user's" in caplog.text and "posing as Ponder" in caplog.text
    assert pipe.received == bytearray()
    assert no_leaks(windows)


def test_when_the_server_process_cannot_be_opened_the_pipe_owner_decides(windows):
    theirs = windows.pipe_of(OTHER, PIPE, pid=300)
    windows.unopenable.add(300)
    with pytest.raises(ForeignPipeError, match=OTHER):
        exchange(windows.api, NAME, LINE, timeout=1)
    assert theirs.received == bytearray()
    # Our own Ponder running elevated: its token cannot be read from here, but the pipe is ours.
    del windows.pipes[PIPE]
    ours = windows.pipe_of(ME, PIPE, pid=400)
    windows.token_denied.add(400)
    assert exchange(windows.api, NAME, LINE, timeout=1) == b"ok\n"
    assert bytes(ours.received) == LINE
    assert no_leaks(windows)


def test_a_pipe_that_shuts_this_user_out_is_reported_as_not_ours(windows):
    windows.pipe_of(OTHER, PIPE, sddl=f"D:P(A;;GA;;;{OTHER})")
    with pytest.raises(ForeignPipeError, match="does not let this user in"):
        exchange(windows.api, NAME, LINE, timeout=1)


def test_no_pipe_means_no_running_ponder(windows, caplog):
    with caplog.at_level(logging.WARNING):
        assert hand_over_pipe(windows.api, NAME, LINE) is False
    assert not caplog.text  # nothing to warn about: Ponder just is not running


def test_a_server_that_never_answers_does_not_hang_the_hand_over(windows):
    windows.pipe_of(ME, PIPE).reply = b""
    assert hand_over_pipe(windows.api, NAME, LINE, timeout=0.05) is False
    assert no_leaks(windows)


def test_the_claim_is_the_first_instance_and_admits_only_this_user(windows):
    claim = claim_pipe(windows.api, NAME)
    [(name, mode, sddl)] = windows.created
    assert name == PIPE and mode & pipe_windows.FILE_FLAG_FIRST_PIPE_INSTANCE
    assert sddl == f"D:P(A;;GA;;;{ME})"
    assert windows.pipes[PIPE].owner == ME and not windows.pipes[PIPE].admits(OTHER)
    assert claim_pipe(windows.api, NAME) is None  # the name is taken now (here: by ourselves)
    claim.close()
    claim.close()  # idempotent
    assert not windows.allocated


def test_a_name_someone_else_holds_cannot_be_claimed(windows):
    windows.pipe_of(OTHER, PIPE)  # even one that would let us add instances
    assert claim_pipe(windows.api, NAME) is None
    assert windows.created == []


def test_the_fakes_refuse_what_windows_would(windows):
    with pytest.raises(AttributeError):
        windows.kernel32.CreateFileA  # noqa: B018 - not what the code may call
    with pytest.raises(TypeError):
        windows.kernel32.WaitNamedPipeW(PIPE)
    with pytest.raises(ctypes.ArgumentError):
        windows.kernel32.OpenProcess(0x1000, False, "200")
    with pytest.raises(ctypes.ArgumentError):
        windows.advapi32.GetTokenInformation(None, 1, None, 0, 5)  # not a DWORD*


class Recorder:
    """Stands in for ctypes.WinDLL: records the argtypes/restype WinApi.load sets."""

    made: dict[str, Recorder] = {}

    class Function:
        argtypes = None
        restype = ctypes.c_int

    def __init__(self, name: str, use_last_error: bool = False) -> None:
        assert use_last_error, "GetLastError must be kept by ctypes (use_last_error=True)"
        self.functions: dict[str, Recorder.Function] = {}
        Recorder.made[name] = self

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.functions.setdefault(name, Recorder.Function())


def test_the_real_libraries_get_the_documented_signatures(monkeypatch):
    monkeypatch.setattr(ctypes, "WinDLL", Recorder, raising=False)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: 0, raising=False)
    WinApi.load()
    for library, table in (("kernel32", KERNEL32), ("advapi32", ADVAPI32)):
        declared = {name: (tuple(f.argtypes), f.restype) for name, f in Recorder.made[library].functions.items()}
        assert declared == table, library
