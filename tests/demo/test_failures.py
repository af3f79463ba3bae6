"""The demo checks its own story: when the bot (or the demo's files) do not behave as the story
says, it stops at that step, says what it saw, and exits non-zero. Usage mistakes exit 2."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest

import bot.demo.seed
from bot.cli import main
from bot.demo.page import Page
from bot.demo.play import play
from bot.demo.seed import POLICY, REQUIRED, SourceMissing, source_root
from bot.demo.story import StoryFailed
from bot.demo.style import Style
from tests.conftest import ROOT


def checkout_copy(tmp_path: Path) -> Path:
    """The files the demo reads, copied so a test can change them."""
    root = tmp_path / "flagbot"
    shutil.copytree(ROOT / "flags", root / "flags")
    shutil.copytree(ROOT / ".github", root / ".github")
    return root


@pytest.fixture
def no_qa(tmp_path: Path) -> Path:
    """A checkout whose policy lets a manager alone approve production changes."""
    root = checkout_copy(tmp_path)
    policy = root / POLICY
    text = policy.read_text()
    assert "default: [manager, qa]" in text
    policy.write_text(text.replace("default: [manager, qa]", "default: [manager]"))
    return root


def test_a_step_that_turns_out_otherwise_stops_the_story(no_qa: Path) -> None:
    out = io.StringIO()
    with pytest.raises(StoryFailed) as failed:
        asyncio.run(play(Page(out, Style()), no_qa))
    assert failed.value.step == "2"
    assert "check run says 'Merged', expected 'Waiting for QA validation'" in str(failed.value)
    assert "── 3" not in out.getvalue()  # nothing after the failed step is told


def test_the_command_exits_1_naming_the_step(
    no_qa: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bot.demo.seed, "source_root", lambda: no_qa)
    assert main(["demo", "--no-color"]) == 1
    err = capsys.readouterr().err
    assert "flagbot demo: step 2: check run says 'Merged'" in err
    assert "did not turn out as it should" in err


def test_keep_into_a_non_empty_directory_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "something").write_text("mine\n")
    assert main(["demo", "--keep", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert f"flagbot demo: --keep: {tmp_path} already exists and is not an empty directory" in err
    assert out == ""
    assert [p.name for p in tmp_path.iterdir()] == ["something"]


def test_without_a_flagbot_checkout_it_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(SourceMissing) as missing:
        source_root([tmp_path])
    assert str(tmp_path) in str(missing.value)
    assert all(path in str(missing.value) for path in REQUIRED)
    assert source_root([tmp_path, ROOT]) == ROOT


def test_the_command_exits_2_without_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bot.demo.seed, "source_root", lambda: source_root([tmp_path]))
    assert main(["demo"]) == 2
    assert "run it from a clone of flagbot" in capsys.readouterr().err
