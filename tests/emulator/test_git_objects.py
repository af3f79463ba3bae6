"""Object ids, merges, diffs and write-out checked against the real `git` binary."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.emulator.git import MODE_EXECUTABLE, MODE_FILE, MODE_TREE, GitRepo, Signature, object_id
from bot.emulator.git.diff import diff_trees, line_diff
from bot.emulator.git.export import write_repository
from bot.emulator.git.merge import merge_lines
from bot.emulator.git.worktree import read_directory

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")

ALICE = Signature("Alice", "alice@example.com", datetime(2024, 5, 1, 12, 0, tzinfo=UTC))


def git(cwd: Path, *args: str, input: bytes | None = None, env: dict | None = None) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, input=input, capture_output=True, check=True, env=env
    )
    return out.stdout.decode().strip()


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "--bare", "r.git")
    return tmp_path / "r.git"


@pytest.mark.parametrize("data", [b"", b"hello\n", b"no newline", bytes(range(256)) * 3])
def test_blob_id_equals_git_hash_object(bare: Path, data: bytes) -> None:
    assert object_id("blob", data) == git(bare, "hash-object", "--stdin", input=data)


def test_tree_id_and_order_equal_git_mktree(bare: Path) -> None:
    repo = GitRepo()
    # git sorts "a.b" < "a" (as "a/") < "a0" because a tree's name compares as if it ended in "/"
    flat = {
        "a.b": (MODE_FILE, repo.store.put_blob(b"1")),
        "a/x": (MODE_FILE, repo.store.put_blob(b"2")),
        "a0": (MODE_EXECUTABLE, repo.store.put_blob(b"3")),
        "b-c/d/e.yaml": (MODE_FILE, repo.store.put_blob(b"4")),
    }
    root = repo.trees.build(flat)
    for sha, data in [(v[1], repo.store.blob(v[1])) for v in flat.values()]:
        assert git(bare, "hash-object", "-w", "--stdin", input=data) == sha

    def mktree(tree_sha: str) -> str:
        lines = []
        for e in repo.store.tree(tree_sha):
            sha = mktree(e.sha) if e.mode == MODE_TREE else e.sha
            lines.append(f"{e.mode} {e.type} {sha}\t{e.name}")
        return git(bare, "mktree", input=("\n".join(lines) + "\n").encode())

    assert mktree(root) == root


def test_commit_id_equals_git_commit_tree_with_timezone(bare: Path) -> None:
    repo = GitRepo()
    blob = git(bare, "hash-object", "-w", "--stdin", input=b"x\n")
    tree = repo.trees.build({"f": (MODE_FILE, repo.store.put_blob(b"x\n"))})
    assert git(bare, "mktree", input=f"100644 blob {blob}\tf\n".encode()) == tree
    when = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    author = Signature("A U Thor", "author@example.com", when)
    committer = Signature("C O Mitter", "committer@example.com", when + timedelta(minutes=7))
    sha = repo.commit(tree, (), "subject\n\nbody\n", author, committer)
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": author.encode().split("> ")[1],
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
        "GIT_COMMITTER_DATE": committer.encode().split("> ")[1],
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    assert git(bare, "commit-tree", tree, "-m", "subject\n\nbody", env=env) == sha
    child = repo.commit(tree, (sha,), "second\n", author, committer)
    assert git(bare, "commit-tree", tree, "-p", sha, "-m", "second", env=env) == child


def test_write_out_passes_fsck_and_log(tmp_path: Path) -> None:
    repo = GitRepo()
    sig = [Signature("A", "a@x", ALICE.when + timedelta(minutes=i)) for i in range(4)]
    first = repo.commit_changes(
        None, {"README.md": b"hi\n", "flags/a.yaml": b"a\n"}, "one\n", sig[0]
    )
    second = repo.commit_changes(first, {"flags/a.yaml": b"A\n"}, "two\n", sig[1])
    side = repo.commit_changes(first, {"flags/b.yaml": b"name: b\n"}, "side\n", sig[2])
    result, _ = repo.merge(second, side)
    merge = repo.commit(result.tree, (second, side), "merge\n", sig[3])
    refs = {"refs/heads/main": merge, "refs/heads/side": side}
    out = write_repository(repo.store, refs, "main", tmp_path / "out.git")
    git(out, "fsck", "--strict", "--no-dangling")
    assert git(out, "log", "--format=%H", "main").split() == [merge, side, second, first]
    assert repo.history.log(merge) == [merge, side, second, first]
    assert git(out, "show", "main:flags/b.yaml") == "name: b"
    assert git(out, "show", "main:flags/a.yaml") == "A"
    assert git(out, "rev-parse", "main^2") == side


def test_log_path_filter_matches_git(tmp_path: Path) -> None:
    repo = GitRepo()
    t0 = ALICE.when
    sig = [Signature("A", "a@x", t0 + timedelta(minutes=i)) for i in range(10)]
    c1 = repo.commit_changes(None, {"f.yaml": b"1\n", "g": b"1\n"}, "c1\n", sig[0])
    c2 = repo.commit_changes(c1, {"g": b"2\n"}, "c2\n", sig[1])
    c3 = repo.commit_changes(c2, {"f.yaml": b"2\n"}, "c3\n", sig[2])
    b1 = repo.commit_changes(c2, {"f.yaml": b"3\n", "h": b"x\n"}, "b1\n", sig[3])
    result, _ = repo.merge(c3, b1)
    assert not result.clean  # both changed line 1 of f.yaml
    b2 = repo.commit_changes(c2, {"h": b"y\n"}, "b2\n", sig[4])
    result, _ = repo.merge(c3, b2)
    assert result.clean
    m = repo.commit(result.tree, (c3, b2), "m\n", sig[5])
    out = write_repository(repo.store, {"refs/heads/main": m}, "main", tmp_path / "o.git")
    for path in ("f.yaml", "g", "h", "missing"):
        expected = git(out, "log", "--format=%H", "main", "--", path).split()
        assert repo.history.log(m, path) == expected, path
    assert repo.history.log(m) == git(out, "log", "--format=%H", "main").split()
    assert repo.history.merge_base(c3, b2) == git(out, "merge-base", c3, b2)


def test_line_merge_takes_both_sides_or_conflicts() -> None:
    base = [b"a\n", b"b\n", b"c\n", b"d\n", b"e\n"]
    ours = [b"A\n", b"b\n", b"c\n", b"d\n", b"e\n"]
    theirs = [b"a\n", b"b\n", b"c\n", b"d\n", b"E\n"]
    assert merge_lines(base, ours, theirs) == [b"A\n", b"b\n", b"c\n", b"d\n", b"E\n"]
    assert merge_lines(base, ours, [b"X\n", *base[1:]]) is None
    assert merge_lines(base, ours, ours) == ours


def test_diff_reports_renames_and_patches() -> None:
    repo = GitRepo()
    text = b"".join(b"line %d\n" % i for i in range(20))
    old = repo.commit_changes(
        None, {"a.yaml": text, "gone": b"x\n", "keep": b"1\n2\n"}, "o\n", ALICE
    )
    new = repo.commit_changes(
        old,
        {
            "a.yaml": None,
            "b.yaml": text.replace(b"line 3\n", b"line three\n"),
            "gone": None,
            "keep": b"1\n3\n",
            "new": b"n\n",
        },
        "n\n",
        ALICE,
    )
    changes = {c.filename: c for c in diff_trees(repo.store, repo.flat(old), repo.flat(new))}
    assert changes["b.yaml"].status == "renamed"
    assert changes["b.yaml"].previous_filename == "a.yaml"
    assert (changes["b.yaml"].additions, changes["b.yaml"].deletions) == (1, 1)
    assert changes["gone"].status == "removed"
    assert changes["new"].status == "added"
    assert changes["keep"].patch == "@@ -1,2 +1,2 @@\n 1\n-2\n+3"
    assert "a.yaml" not in changes


def test_line_diff_marks_missing_final_newline() -> None:
    adds, dels, patch = line_diff(b"a\nb", b"a\nc\n")
    assert (adds, dels) == (1, 1)
    assert patch == "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c"


def test_read_directory_respects_gitignore(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("ignored.txt\nbuild/\n")
    (tmp_path / "ignored.txt").write_text("no")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "x").write_text("no")
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "a.yaml").write_text("name: a\n")
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    files = read_directory(tmp_path)
    assert sorted(files) == [".gitignore", "flags/a.yaml", "run.sh"]
    assert files["run.sh"][0] == MODE_EXECUTABLE
    assert files["flags/a.yaml"] == (MODE_FILE, b"name: a\n")
