"""The running app's side of the Windows hand-over pipe, on the fake Windows of
tests/engine/quick_actions/windows_fakes.py: it claims the pipe name before QLocalServer listens,
and never listens on a name another user's program holds."""

from __future__ import annotations

import logging

from app.quick.instance import InstanceServer
from tests.engine.quick_actions.windows_fakes import ME, OTHER, FakeWindows


def test_the_app_claims_the_pipe_then_lets_qlocalserver_listen(qapp, ponder_home, tmp_path):
    windows = FakeWindows()
    server = InstanceServer(ponder_home)
    address = str(tmp_path / "ponder.sock")  # QLocalServer listens on a Unix socket here
    try:
        assert server.listen_pipe(windows.api, address) is True
        [(_name, _mode, sddl)] = windows.created
        assert sddl == f"D:P(A;;GA;;;{ME})"
        assert windows.open_handles == []  # the claim's instance is closed once Qt's are there
    finally:
        server.close()


def test_the_app_does_not_listen_on_another_users_pipe(qapp, ponder_home, tmp_path, caplog):
    windows = FakeWindows()
    theirs = windows.pipe_of(OTHER, "\\\\.\\pipe\\" + str(tmp_path / "ponder.sock"))
    server = InstanceServer(ponder_home)
    with caplog.at_level(logging.WARNING):
        assert server.listen_pipe(windows.api, str(tmp_path / "ponder.sock")) is False
    assert "not this user's Ponder" in caplog.text and "posing as Ponder" in caplog.text
    assert not server._server.isListening() and theirs.received == bytearray()
    server.close()


def test_a_second_ponder_of_ours_hands_over_instead_of_listening(qapp, ponder_home, tmp_path, caplog):
    windows = FakeWindows()
    ours = windows.pipe_of(ME, "\\\\.\\pipe\\" + str(tmp_path / "ponder.sock"), pid=500)
    server = InstanceServer(ponder_home)
    with caplog.at_level(logging.WARNING):
        assert server.listen_pipe(windows.api, str(tmp_path / "ponder.sock")) is False
    assert b"__ping__" in ours.received and not caplog.text
    server.close()
