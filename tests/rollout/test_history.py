"""Dating files from the local git history, and refusing to from a shallow clone."""

import subprocess
from datetime import UTC, datetime, timedelta

from bot.rollout.history import has_full_history, last_changes
from tests.rollout.gitrepo import commit_files, git

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_newest_commit_touching_each_path(tmp_path):
    commit_files(tmp_path, {"flags/a.yaml": "a: 1\n", "flags/b.yaml": "b: 1\n"}, T0)
    commit_files(tmp_path, {"flags/a.yaml": "a: 2\n"}, T0 + timedelta(hours=2))
    commit_files(tmp_path, {"README.md": "x\n"}, T0 + timedelta(hours=3))
    assert has_full_history(tmp_path)
    found = last_changes(tmp_path, ["flags/a.yaml", "flags/b.yaml", "flags/new.yaml"])
    assert found == {"flags/a.yaml": T0 + timedelta(hours=2), "flags/b.yaml": T0}


def test_repository_in_a_subfolder_of_the_work_tree(tmp_path):
    commit_files(tmp_path, {"app/flags/a.yaml": "a: 1\n"}, T0)
    assert last_changes(tmp_path / "app", ["flags/a.yaml"]) == {"flags/a.yaml": T0}


def test_not_a_repository(tmp_path):
    (tmp_path / "flags").mkdir()
    assert not has_full_history(tmp_path)
    assert last_changes(tmp_path, ["flags/a.yaml"]) == {}


def test_shallow_clone_is_not_history(tmp_path):
    origin = tmp_path / "origin"
    origin.mkdir()
    commit_files(origin, {"flags/a.yaml": "a: 1\n"}, T0)
    commit_files(origin, {"README.md": "x\n"}, T0 + timedelta(hours=5))
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)],
        check=True,
        capture_output=True,
    )
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "true"
    assert not has_full_history(clone)


def test_a_change_merged_with_a_merge_commit_is_dated_by_the_merge(tmp_path):
    """`flagbot plan` in a full clone: the pull request's commit was written at 10:00, the
    merge commit put it on main at 13:00; the stage began at 13:00."""
    commit_files(tmp_path, {"flags/a.yaml": "name: A\n"}, T0)
    git(tmp_path, "checkout", "-q", "-b", "pr")
    commit_files(tmp_path, {"flags/a.yaml": "name: A2\n"}, T0 + timedelta(hours=1))
    git(tmp_path, "checkout", "-q", "main")
    merged = T0 + timedelta(hours=4)
    git(tmp_path, "merge", "-q", "--no-ff", "-m", "Merge pull request #5", "pr", at=merged)
    assert last_changes(tmp_path, ["flags/a.yaml"]) == {"flags/a.yaml": merged}
