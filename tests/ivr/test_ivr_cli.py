"""`ticketline ivr ...` as a flow author types it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FLOWS

TICKETLINE = str(Path(sys.executable).parent / "ticketline")


@pytest.fixture(autouse=True)
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each command keeps its prompt cache and database under the test's folder."""
    monkeypatch.setenv("TICKETLINE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("TICKETLINE_DATABASE_URL", raising=False)
    return tmp_path / "var"


def ivr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TICKETLINE, "ivr", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_check_accepts_the_shipped_flows_and_names_mistakes(tmp_path: Path) -> None:
    good = ivr("check", str(FLOWS / "hotline.yaml"), str(FLOWS / "theatre.yaml"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "flow hotline version" in good.stdout
    broken = tmp_path / "broken.yaml"
    text = (FLOWS / "hotline.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("fallback: agent", "fallback: agnet"), encoding="utf-8")
    bad = ivr("check", str(broken))
    assert bad.returncode == 1
    assert "broken.yaml:" in bad.stdout
    assert "nodes.main.fallback: no node named 'agnet'" in bad.stdout


def test_simulate_prints_what_the_caller_hears_and_where_the_call_went() -> None:
    result = ivr(
        "simulate",
        str(FLOWS / "hotline.yaml"),
        "--keys",
        "2,1,01#,02#,1201#,1",
        "--at",
        "2026-11-23T10:00",
    )
    assert result.returncode == 0, result.stderr
    assert "say[en] You entered December 1, 2026." in result.stdout
    assert "path: identify > choose_language > lang_en" in result.stdout


def test_prompts_are_rendered_into_the_cache_once(var_dir: Path) -> None:
    first = ivr("prompts", str(FLOWS / "theatre.yaml"))
    assert first.returncode == 0, first.stderr
    assert "theatre: 18 prompts rendered" in first.stdout
    assert len(list((var_dir / "prompts" / "cache").rglob("*.wav"))) == 18
    again = ivr("prompts", str(FLOWS / "theatre.yaml"))
    assert "theatre: 0 prompts rendered" in again.stdout


def test_graph_writes_mermaid(tmp_path: Path) -> None:
    out = tmp_path / "hotline.mmd"
    result = ivr("graph", str(FLOWS / "hotline.yaml"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("flowchart TD")
    assert "main -- key 1 --> tt_from" in text
