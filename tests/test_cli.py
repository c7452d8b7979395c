"""The `ticketline` command as an operator types it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ticketline.db import migrate

TICKETLINE = str(Path(sys.executable).parent / "ticketline")


def run(args: list[str], var: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"TICKETLINE_VAR_DIR": str(var)}
    env.pop("TICKETLINE_DATABASE_URL", None)
    return subprocess.run(
        [TICKETLINE, *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


@pytest.fixture
def var(tmp_path: Path) -> Path:
    folder = tmp_path / "var"
    result = run(["db", "upgrade"], folder)
    assert result.returncode == 0, result.stderr
    for head in migrate.script_heads():
        assert head in result.stdout
    return folder


def test_db_upgrade_creates_the_sqlite_file_under_var(var: Path) -> None:
    assert (var / "ticketline.db").exists()
    again = run(["db", "upgrade"], var)
    assert again.returncode == 0


def test_user_create_and_passwd(var: Path) -> None:
    created = run(
        [
            "user",
            "create",
            "boss",
            "--name",
            "老板",
            "--role",
            "admin",
            "--password",
            "First-Pass-123",
        ],
        var,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    duplicate = run(
        [
            "user",
            "create",
            "boss",
            "--name",
            "x",
            "--role",
            "agent",
            "--password",
            "First-Pass-123",
        ],
        var,
    )
    assert duplicate.returncode == 1
    assert "username_taken" in duplicate.stdout
    weak = run(["user", "passwd", "boss", "--password", "weak"], var)
    assert weak.returncode == 1
    assert "password" in weak.stdout
    changed = run(["user", "passwd", "boss", "--password", "Second-Pass-456"], var)
    assert changed.returncode == 0
    missing = run(["user", "passwd", "nobody", "--password", "Second-Pass-456"], var)
    assert missing.returncode == 1


def test_demo_is_repeatable(var: Path) -> None:
    first = run(["demo"], var)
    second = run(["demo"], var)
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
