"""A keyring of the test session's own, so a developer's login keyring never receives test secrets.

tools/test.sh runs pytest inside `dbus-run-session` with a fresh gnome-keyring and says so with
PONDER_TEST_PRIVATE_KEYRING=1. Under a plain `pytest` the session starts its own D-Bus daemon and
an unlocked gnome-keyring whose files live in a temporary folder; where those programs are
missing, keyring is pointed at its `fail` backend (no secret can be stored anywhere).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

MARK = "PONDER_TEST_PRIVATE_KEYRING"
_VARIABLES = ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND", MARK)


@contextlib.contextmanager
def private_keyring(folder: Path) -> Iterator[str]:
    """Make this process (and its children) use a private keyring; yields how."""
    if os.environ.get(MARK) == "1":
        yield "private session bus (tools/test.sh)"
        return
    saved = {name: os.environ.get(name) for name in _VARIABLES}
    bus = None
    try:
        bus = _start_bus(folder)
        if bus is None:
            os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
            how = "no keyring (keyring.backends.fail)"
        else:
            how = f"private session bus {os.environ['DBUS_SESSION_BUS_ADDRESS']}"
        os.environ[MARK] = "1"
        yield how
    finally:
        if bus is not None:
            bus.terminate()  # gnome-keyring-daemon leaves with its bus
            bus.wait(timeout=10)
            if bus.stdout is not None:
                bus.stdout.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _start_bus(folder: Path) -> subprocess.Popen[str] | None:
    dbus, keyring_daemon = shutil.which("dbus-daemon"), shutil.which("gnome-keyring-daemon")
    if not (dbus and keyring_daemon):
        return None
    bus = subprocess.Popen([dbus, "--session", "--nofork", "--nopidfile", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    if not address:
        bus.kill()
        bus.wait()
        return None
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    os.environ.pop("PYTHON_KEYRING_BACKEND", None)
    env = dict(os.environ, XDG_DATA_HOME=str(folder / "data"), XDG_RUNTIME_DIR=str(folder / "run"))
    (folder / "run").mkdir(mode=0o700, exist_ok=True)
    subprocess.run([keyring_daemon, "--unlock", "--components=secrets"], input="ponder-test", env=env,
                   capture_output=True, text=True, timeout=30)
    return bus
