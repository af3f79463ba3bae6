"""Tree edits, tree comparisons and tree merges work along changed paths only, and give exactly
what rewriting whole trees path by path gives (itself checked against `git` in
test_git_objects.py), with the ids `git` computes."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.emulator.git import MODE_EXECUTABLE, MODE_FILE, GitObjectError, GitRepo, Signature
from bot.emulator.git.diff import diff_trees
from bot.emulator.git.export import write_repository
from bot.emulator.git.merge import merge_entry
from bot.emulator.git.trees import EMPTY_TREE, FlatTree

ALICE = Signature("Alice", "alice@example.com", datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")

# A small alphabet of paths, so that files, directories and their prefixes collide often.
PATHS = ["a", "b", "a/x", "a/y", "a/b/z", "a/b", "c/d/e", "c/d", "c", "a.b", "a0"]
CONTENTS = [b"one\n", b"two\n", b"1\n2\n3\n4\n5\n", b"1\n2\n3\n4\nfive\n", b"one\n2\n3\n4\n5\n"]


def rebuilt(repo: GitRepo, flat: FlatTree, changes: dict[str, bytes | None]) -> str:
    """What a commit of `changes` means, done the slow way: edit the whole path map, then
    write every tree again."""
    flat = dict(flat)
    for path, change in changes.items():
        if change is None:
            flat.pop(path, None)
            for p in [p for p in flat if p.startswith(path + "/")]:
                del flat[p]
        else:
            mode = flat[path][0] if path in flat else MODE_FILE
            flat[path] = (mode, repo.store.put_blob(change))
    return repo.trees.build(flat)


def consistent(files: dict[str, bytes]) -> dict[str, bytes]:
    """Drop paths that would sit below another path's file."""
    return {p: d for p, d in files.items() if not any(p.startswith(q + "/") for q in files)}


base_files = st.dictionaries(st.sampled_from(PATHS), st.sampled_from(CONTENTS)).map(consistent)
changes = st.dictionaries(st.sampled_from(PATHS), st.none() | st.sampled_from(CONTENTS))


@settings(max_examples=300, deadline=None)
@given(base=base_files, edits=changes, executable=st.sampled_from(PATHS))
def test_a_commit_equals_rewriting_every_tree(base, edits, executable):
    repo = GitRepo()
    flat = {
        p: (MODE_EXECUTABLE if p == executable else MODE_FILE, repo.store.put_blob(d))
        for p, d in base.items()
    }
    tree = repo.trees.build(flat)
    try:
        expected = rebuilt(repo, flat, edits)
    except GitObjectError:
        with pytest.raises(GitObjectError):
            repo.tree_with(tree, edits)
        return
    assert repo.tree_with(tree, edits) == expected
    assert repo.trees.flatten(repo.tree_with(tree, edits)) == repo.trees.flatten(expected)


@settings(max_examples=200, deadline=None)
@given(old=base_files, new=base_files)
def test_changed_paths_give_the_same_diff_as_whole_trees(old, new):
    repo = GitRepo()
    trees = []
    for files in (old, new):
        trees.append(
            repo.trees.build({p: (MODE_FILE, repo.store.put_blob(d)) for p, d in files.items()})
        )
    before, after = repo.trees.changed(*trees)
    whole = repo.trees.flatten(trees[0]), repo.trees.flatten(trees[1])
    assert diff_trees(repo.store, before, after) == diff_trees(repo.store, *whole)
    assert set(before) | set(after) == {
        p for p in set(whole[0]) | set(whole[1]) if whole[0].get(p) != whole[1].get(p)
    }


def merged_path_by_path(repo: GitRepo, base: FlatTree, ours: FlatTree, theirs: FlatTree):
    merged: FlatTree = {}
    conflicts = []
    for path in sorted(set(base) | set(ours) | set(theirs)):
        result, ok = merge_entry(repo.store, base.get(path), ours.get(path), theirs.get(path))
        if not ok:
            conflicts.append(path)
        elif result is not None:
            merged[path] = result
    return merged, conflicts


@settings(max_examples=300, deadline=None)
@given(base=base_files, ours=changes, theirs=changes)
def test_a_tree_merge_equals_merging_path_by_path(base, ours, theirs):
    repo = GitRepo()
    root = repo.commit_changes(None, base, "base\n", ALICE) if base else None
    try:
        left = repo.commit_changes(root, ours, "ours\n", ALICE)
        right = repo.commit_changes(root, theirs, "theirs\n", ALICE)
    except GitObjectError:
        return  # not a tree
    result = repo.merge_commits(root, left, right)
    flats = [repo.flat(c) if c else {} for c in (root, left, right)]
    merged, conflicts = merged_path_by_path(repo, *flats)
    try:
        expected = repo.trees.build(merged)
    except GitObjectError:  # a file on one side, a directory on the other
        assert not result.clean
        return
    assert list(result.conflicts) == conflicts
    if not conflicts:
        assert result.tree == expected


def test_deleting_a_directory_and_writing_a_file_there():
    repo = GitRepo()
    first = repo.commit_changes(None, {"a/x": b"1\n", "a/y": b"2\n", "b": b"3\n"}, "1\n", ALICE)
    second = repo.commit_changes(first, {"a": None, "b/c": None}, "2\n", ALICE)
    assert repo.flat(second) == {"b": repo.flat(first)["b"]}
    with pytest.raises(GitObjectError, match="'b' would be both a file and a directory"):
        repo.commit_changes(second, {"b/c": b"4\n"}, "3\n", ALICE)
    with pytest.raises(GitObjectError, match="both a file and a directory"):
        repo.commit_changes(first, {"a": b"4\n"}, "3\n", ALICE)
    third = repo.commit_changes(first, {"a/x": None, "a/y": None, "a": b"4\n"}, "3\n", ALICE)
    assert sorted(repo.flat(third)) == ["a", "b"]
    with pytest.raises(GitObjectError, match="invalid path"):
        repo.commit_changes(first, {"a//x": b"5\n"}, "4\n", ALICE)
    assert repo.commit_changes(first, {"a/x": None, "a/y": None, "b": None}, "5\n", ALICE)
    assert repo.tree_of(repo.commit_changes(first, {"a": None, "b": None}, "6\n", ALICE)) == (
        EMPTY_TREE
    )


# --- what a change costs in a large repository --------------------------------------------------


def large_repository(dirs: int = 100, per_dir: int = 100) -> tuple[GitRepo, str]:
    """10,000 flag files in 100 directories of 100."""
    repo = GitRepo()
    files = {
        f"flags/team{d}/flag_{i}.yaml": b"name: flag %d\nrollout:\n  percentage: 5\n" % i
        for d in range(dirs)
        for i in range(per_dir)
    }
    files[".github/flagbot.yml"] = b"roles: {}\n"
    return repo, repo.commit_changes(None, files, "seed\n", ALICE)


def hashed(repo: GitRepo) -> tuple[int, int]:
    return repo.store.trees_hashed, repo.store.tree_entries_hashed


def test_a_one_file_commit_rewrites_only_the_trees_on_its_path():
    empty = hashed(GitRepo())
    repo, seed = large_repository()
    built = hashed(repo)
    building = tuple(b - e for b, e in zip(built, empty, strict=True))
    assert building == (1 + 1 + 1 + 100, 2 + 1 + 100 + 100 * 100)  # root, .github, flags, teams
    path = "flags/team42/flag_7.yaml"
    bump = repo.commit_changes(
        seed, {path: b"name: flag 7\nrollout:\n  percentage: 25\n"}, "b\n", ALICE
    )
    trees, entries = (now - before for now, before in zip(hashed(repo), built, strict=True))
    assert trees == 3  # the root, flags/ and flags/team42/: one per level of the path
    assert entries == 2 + 100 + 100  # a hundredth of building it, whatever the other trees hold
    untouched = repo.entry(seed, "flags/team41")
    assert repo.entry(bump, "flags/team41") == untouched  # every other subtree keeps its id
    assert repo.read(bump, path) == b"name: flag 7\nrollout:\n  percentage: 25\n"
    before, after = repo.changes(seed, bump)
    assert list(before) == list(after) == [path]


def test_merging_changes_in_different_directories_reads_no_other_tree():
    repo, seed = large_repository()
    ours = repo.commit_changes(seed, {"flags/team1/flag_1.yaml": b"name: one\n"}, "o\n", ALICE)
    theirs = repo.commit_changes(seed, {"flags/team2/flag_2.yaml": b"name: two\n"}, "t\n", ALICE)
    theirs = repo.commit_changes(theirs, {"flags/team2/flag_3.yaml": None}, "t\n", ALICE)
    before = hashed(repo)
    result = repo.merge_commits(seed, ours, theirs)
    trees, entries = (now - then for now, then in zip(hashed(repo), before, strict=True))
    assert result.clean and result.tree is not None
    assert (trees, entries) == (2, 2 + 100)  # the root and flags/: team1 and team2 taken whole
    merged = repo.trees.flatten(result.tree)
    assert merged["flags/team1/flag_1.yaml"] == repo.flat(ours)["flags/team1/flag_1.yaml"]
    assert merged["flags/team2/flag_2.yaml"] == repo.flat(theirs)["flags/team2/flag_2.yaml"]
    assert "flags/team2/flag_3.yaml" not in merged
    assert len(merged) == 10_000


def test_a_contents_api_write_in_a_large_repository_rewrites_one_path(emulator):
    from tests.emulator_harness import REPO

    files = {
        f"flags/team{d}/flag_{i}.yaml": f"name: f{i}\n" for d in range(100) for i in range(100)
    }
    tip = emulator.push_files(REPO, "main", files, message="10,000 flags")
    store = emulator.repo(REPO).git.store
    path = "flags/team3/flag_9.yaml"
    read = emulator.request("GET", f"/repos/{REPO}/contents/{path}", login="dev")
    before = store.trees_hashed, store.tree_entries_hashed
    written = emulator.request(
        "PUT",
        f"/repos/{REPO}/contents/{path}",
        login="dev",
        json_body={"message": "bump", "content": "bmFtZTogbmluZQo=", "sha": read.body["sha"]},
    )
    assert written.status == 200, written.body
    assert written.body["commit"]["parents"][0]["sha"] == tip
    git = emulator.repo(REPO).git
    on_path = [git.tree_of(tip), git.entry(tip, "flags").sha, git.entry(tip, "flags/team3").sha]
    assert store.trees_hashed - before[0] == 3
    assert store.tree_entries_hashed - before[1] == sum(len(store.tree(t)) for t in on_path)
    assert store.tree_entries_hashed - before[1] < 300  # of the 10,100 entries below the root


# --- against git --------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)
    return out.stdout.decode().strip()


@needs_git
def test_edited_and_merged_trees_are_the_trees_git_writes(tmp_path: Path):
    repo = GitRepo()
    base = repo.commit_changes(
        None,
        {
            "README.md": b"hi\n",
            "flags/a.yaml": b"1\n2\n3\n4\n5\n6\n",
            "flags/team/b.yaml": b"b\n",
            "flags/team/c.yaml": b"c\n",
            "tools/run.sh": (MODE_EXECUTABLE, repo.store.put_blob(b"#!/bin/sh\n")),
        },
        "base\n",
        ALICE,
    )
    ours = repo.commit_changes(
        base, {"flags/a.yaml": b"one\n2\n3\n4\n5\n6\n", "flags/team/d.yaml": b"d\n"}, "o\n", ALICE
    )
    theirs = repo.commit_changes(
        base,
        {"flags/a.yaml": b"1\n2\n3\n4\n5\nsix\n", "flags/team/c.yaml": None, "tools": None},
        "t\n",
        ALICE,
    )
    result = repo.merge_commits(base, ours, theirs)
    assert result.clean
    refs = {"refs/heads/main": ours, "refs/heads/side": theirs}
    out = write_repository(repo.store, refs, "main", tmp_path / "r.git")
    git(out, "fsck", "--strict", "--no-dangling")
    assert git(out, "merge-tree", "--write-tree", "main", "side") == result.tree
    assert git(out, "rev-parse", "side^{tree}") == repo.tree_of(theirs)
    assert git(out, "ls-tree", "-r", "--name-only", "side").split() == [
        "README.md",
        "flags/a.yaml",
        "flags/team/b.yaml",
    ]
