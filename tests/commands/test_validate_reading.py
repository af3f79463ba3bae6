"""How `flagbot validate` reads the repository: plainly, one stat per file, never blocking on
something that is not a file, never reading a huge file whole; CODEOWNERS parsed once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.commands.validate import READ_LIMIT, read_file, read_snapshot
from bot.validation import validate_snapshot

ROOT = Path(__file__).resolve().parents[2]


def test_a_file_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"name: A\n")
    (tmp_path / "empty.yaml").write_bytes(b"")
    assert read_file(tmp_path / "a.yaml") == b"name: A\n"
    assert read_file(tmp_path / "empty.yaml") == b""


def test_what_is_not_a_file_reads_as_absent(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    assert read_file(tmp_path / "missing.yaml") is None
    assert read_file(tmp_path / "dir.yaml") is None
    assert read_file(tmp_path / "missing" / "below.yaml") is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_a_named_pipe_does_not_block_the_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    assert read_file(tmp_path / "pipe.yaml") is None


def test_a_huge_file_is_read_only_as_far_as_the_limit(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"x" * (READ_LIMIT * 3))
    assert len(read_file(tmp_path / "big.yaml") or b"") == READ_LIMIT


def test_the_snapshot_holds_flags_and_policy_files_only(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "flagbot.yml").write_bytes(b"roles: {}\n")
    (tmp_path / "CODEOWNERS").write_bytes(b"* @acme/x\n")
    (tmp_path / "flags" / "staging").mkdir(parents=True)
    (tmp_path / "flags" / "a.yaml").write_bytes(b"name: A\n")
    (tmp_path / "flags" / "staging" / "b.yaml").write_bytes(b"name: B\n")
    (tmp_path / "flags" / "notes.txt").write_bytes(b"not a flag\n")
    assert sorted(read_snapshot(tmp_path)) == [
        ".github/flagbot.yml",
        "CODEOWNERS",
        "flags/a.yaml",
        "flags/staging/b.yaml",
    ]


def test_validate_parses_codeowners_once(monkeypatch) -> None:
    from bot.policy import coverage  # after bot.validation, which it builds on

    parsed: list[str] = []
    load = coverage.load_codeowners
    monkeypatch.setattr(coverage, "load_codeowners", lambda d, p: parsed.append(p) or load(d, p))
    snapshot = read_snapshot(ROOT)
    snapshot[".github/CODEOWNERS"] += b"\n# parsed once\n"  # not in the cache from other tests
    validate_snapshot(snapshot)
    assert parsed == [".github/CODEOWNERS"]
