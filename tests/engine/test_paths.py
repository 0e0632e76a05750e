import os
import stat

from engine.paths import resolve_paths


def test_ponder_home_puts_everything_under_one_folder(tmp_path):
    paths = resolve_paths(environ={"PONDER_HOME": str(tmp_path)})
    for folder in (paths.config, paths.data, paths.cache, paths.logs, paths.models):
        assert folder.is_relative_to(tmp_path)


def test_flag_wins_over_environment(tmp_path):
    paths = resolve_paths(tmp_path / "flag", environ={"PONDER_HOME": str(tmp_path / "env")})
    assert paths.data.is_relative_to(tmp_path / "flag")


def test_platform_folders_without_override():
    paths = resolve_paths(environ={})
    assert "ponder" in str(paths.data).lower()


def test_resolving_creates_nothing_and_ensure_makes_private_folders(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    assert not (tmp_path / "home").exists()
    old = os.umask(0)
    try:
        paths.ensure()
    finally:
        os.umask(old)
    assert stat.S_IMODE(paths.data.stat().st_mode) == 0o700
