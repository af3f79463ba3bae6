"""The git adapter against real repositories: diffs as GitHub lists them, blobs in bulk."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.local.git import Git, GitError, parse_name_status
from bot.policy.assess import ChangedFile

ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ann Author",
    "GIT_AUTHOR_EMAIL": "ann@acme.example",
    "GIT_COMMITTER_NAME": "Ann Author",
    "GIT_COMMITTER_EMAIL": "ann@acme.example",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    return tmp_path


def test_parse_every_status():
    out = (
        b"A\0flags/new one.yaml\0"
        b"D\0flags/gone.yaml\0"
        b"M\0flags/\xc3\xa9t\xc3\xa9.yaml\0"
        b"T\0flags/link.yaml\0"
        b"R087\0flags/old.yaml\0flags/staging/old.yaml\0"
        b"C100\0flags/a.yaml\0flags/copy\tof a.yaml\0"
        b"M\0docs/two\nlines.md\0"
    )
    assert parse_name_status(out) == [
        ChangedFile("flags/new one.yaml", "added"),
        ChangedFile("flags/gone.yaml", "removed"),
        ChangedFile("flags/été.yaml", "modified"),
        ChangedFile("flags/link.yaml", "changed"),
        ChangedFile("flags/staging/old.yaml", "renamed", "flags/old.yaml"),
        ChangedFile("flags/copy\tof a.yaml", "added"),  # the source stays: a new file
        ChangedFile("docs/two\nlines.md", "modified"),
    ]
    assert parse_name_status(b"") == []
    with pytest.raises(GitError, match="unexpected `git diff` output"):
        parse_name_status(b"R100\0only-one-path\0")


def test_changed_files_like_a_pull_request(repo):
    (repo / "flags").mkdir()
    (repo / "flags" / "kept.yaml").write_text("name: Kept\n" + "x: 1\n" * 20)
    (repo / "flags" / "gone.yaml").write_text("name: Gone\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "naïve notes.md").write_text("line\n" * 30)
    base = commit_all(repo, "base")
    (repo / "flags" / "gone.yaml").unlink()
    (repo / "flags" / "new.yaml").write_text("name: New\n")
    (repo / "docs" / "naïve notes.md").rename(repo / "docs" / "süß notes.md")
    (repo / "flags" / "kept.yaml").write_text("name: Kept\n" + "x: 1\n" * 20 + "y: 2\n")
    head = commit_all(repo, "head")
    assert sorted(Git(repo).changed_files(base, head), key=lambda f: f.path) == [
        ChangedFile("docs/süß notes.md", "renamed", "docs/naïve notes.md"),
        ChangedFile("flags/gone.yaml", "removed"),
        ChangedFile("flags/kept.yaml", "modified"),
        ChangedFile("flags/new.yaml", "added"),
    ]


def test_read_blobs_in_bulk(repo):
    (repo / "flags").mkdir()
    paths = [f"flags/flag_{i}.yaml" for i in range(300)] + ["flags/with space.yaml"]
    for p in paths:
        (repo / p).write_text(f"name: {p}\n")
    (repo / "flags" / "two\nlines.yaml").write_text("name: newline\n")
    (repo / "flags" / "big.yaml").write_bytes(b"#" * 100_000)
    head = commit_all(repo, "many")
    g = Git(repo)
    wanted = [*paths, "flags/two\nlines.yaml", "flags/missing.yaml", "flags", "flags/big.yaml"]
    found = g.read_blobs(head, wanted, limit=50_000)
    assert set(found) == {*paths, "flags/two\nlines.yaml", "flags/big.yaml"}  # not the tree
    assert found["flags/flag_7.yaml"] == b"name: flags/flag_7.yaml\n"
    assert found["flags/with space.yaml"] == b"name: flags/with space.yaml\n"
    assert found["flags/two\nlines.yaml"] == b"name: newline\n"
    assert found["flags/big.yaml"] == b"#" * 50_000
    assert g.list_files(head, "flags")[:2] == ["flags/big.yaml", "flags/flag_0.yaml"]


def test_refs_and_history(repo, monkeypatch):
    (repo / "a").write_text("a\n")
    first = commit_all(repo, "first")
    g = Git.discover(repo)
    assert g.resolve("main") == g.resolve("HEAD") == first
    with pytest.raises(GitError, match="unknown ref 'main~5'"):
        g.resolve("main~5")
    git(repo, "checkout", "-q", "--orphan", "other")
    (repo / "b").write_text("b\n")
    other = commit_all(repo, "other")
    assert g.merge_base(first, other) is None
    assert g.commit_field(other, "%s") == "other"
    assert g.commit_field(other, "%an") == "Ann Author"
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    assert g.config("user.name") is None
    git(repo, "config", "user.name", "Zoë")
    assert g.config("user.name") == "Zoë"


def test_discover_from_a_subfolder_and_outside(repo, tmp_path_factory, monkeypatch):
    (repo / "flags" / "staging").mkdir(parents=True)
    assert Git.discover(repo / "flags" / "staging").root.resolve() == repo.resolve()
    elsewhere = tmp_path_factory.mktemp("not-a-repo")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(elsewhere.parent))
    with pytest.raises(GitError, match="not a git work tree"):
        Git.discover(elsewhere)
