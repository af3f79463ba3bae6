"""Reversing GitHub-style unified diffs, checked against diffs that git itself produced."""

import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.policy.patch import reverse_patch


def git_patch(tmp_path, old: str, new: str) -> str:
    """The hunks of `git diff` between two texts: what GitHub puts in a file's `patch`."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(old.encode())
    b.write_bytes(new.encode())
    out = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "-U3", str(a), str(b)],
        capture_output=True,
        check=False,
    ).stdout.decode()
    lines = out.split("\n")
    first = next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines))
    return "\n".join(lines[first:]).rstrip("\n")


FLAG = """name: New checkout flow
enabled: true
default: false
value: true
rollout:
  percentage: 5
  stages: [5, 25, 50, 75, 100]
  every: 60m
"""


@pytest.mark.parametrize(
    "new",
    [
        FLAG.replace("percentage: 5", "percentage: 25"),
        FLAG.replace("enabled: true", "enabled: false"),
        FLAG + "tags: [x]\n",
        "name: Replaced entirely\n",
        FLAG.rstrip("\n"),  # newline at end removed
        FLAG.replace("\n", "\r\n"),
        "",
    ],
)
def test_reverses_git_diffs(tmp_path, new):
    assert reverse_patch(new, git_patch(tmp_path, FLAG, new)) == FLAG


def test_old_without_final_newline(tmp_path):
    old = FLAG.rstrip("\n")
    assert reverse_patch(FLAG, git_patch(tmp_path, old, FLAG)) == old


def test_disagreeing_patch_is_refused(tmp_path):
    patch = git_patch(tmp_path, FLAG, FLAG.replace("percentage: 5", "percentage: 25"))
    assert reverse_patch(FLAG.replace("percentage: 5", "percentage: 50"), patch) is None
    assert reverse_patch("x\n", "garbage") is None


lines = st.lists(st.sampled_from(["a", "b", "c", "d", "", "  e: 1", "f\r"]), max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(old=lines, new=lines, old_nl=st.booleans(), new_nl=st.booleans())
def test_property_against_git(tmp_path, old, new, old_nl, new_nl):
    o = "\n".join(old) + ("\n" if old_nl and old else "")
    n = "\n".join(new) + ("\n" if new_nl and new else "")
    patch = git_patch(tmp_path, o, n)
    if not patch:
        assert o == n
        return
    assert reverse_patch(n, patch) == o
