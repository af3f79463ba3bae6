"""Reads that gave `decide` a wrong picture (found in review; each test failed before its fix)."""

from __future__ import annotations

import asyncio

from bot.plan.reads import read_input
from bot.policy.assess import ChangedFile, old_versions
from bot.policy.decision import decide
from tests.plan.fake import FLAG, FakeGitHub

OLD, NEW = "flags/production/new_checkout_flow.yaml", "flags/new_checkout_flow.yaml"
AT_5 = FLAG + b"rollout: {percentage: 5, stages: [5, 25, 50, 75, 100]}\n"
AT_50 = AT_5.replace(b"percentage: 5,", b"percentage: 50,")
POLICY = b"""\
roles:
  manager: ["@acme/managers"]
  qa: ["@acme/qa"]
  sre: ["@acme/sre"]
require:
  default: [manager, qa]
  rules:
    - {name: ramps, when: {change_type: rollout}, roles: [manager, qa, sre]}
"""


class RenamedWithoutPatch(FakeGitHub):
    """A flag moved within its environment and ramped, in a diff GitHub sends no `patch` for
    (too large to show, as for a file with a long description)."""

    def base(self) -> dict[str, bytes]:
        return {
            ".github/flagbot.yml": POLICY,
            ".github/CODEOWNERS": b"/flags/ @acme/managers @acme/qa @acme/sre\n",
            OLD: AT_5,
        }

    async def files(self, number: int):
        return (ChangedFile(NEW, "renamed", OLD, sha="1" * 40, patch=None),), False


def test_a_renamed_file_without_a_patch_is_not_assumed_unchanged():
    """GitHub leaves `patch` out of a file whose diff is too large, renamed or not; taking the
    new side for the old one made a ramp look like a rename that changes nothing."""
    files = (ChangedFile(NEW, "renamed", OLD, patch=None),)
    recovered, missing = old_versions(files, {NEW: AT_50})
    assert recovered.get(OLD) != AT_50
    assert missing == [OLD]


def test_a_ramp_hidden_in_a_patchless_rename_still_needs_its_roles():
    gh = RenamedWithoutPatch(
        changed={NEW: AT_50},
        members={"@acme/managers": {"mgr"}, "@acme/qa": {"qa"}, "@acme/sre": {"sre"}},
    )
    gh.approve("mgr")
    gh.approve("qa")
    _, inp = asyncio.run(read_input(gh, 7))
    [change] = inp.changes
    assert change.change_type == "rollout"
    assert [(c.field, c.before, c.after) for c in change.changes] == [("rollout.percentage", 5, 50)]
    assert decide(inp).waiting_for == "sre"


class HugeRepository(FakeGitHub):
    """GitHub truncates the recursive tree of a very large repository (no base listing); the
    listing of flags/ at the head is whole."""

    def base(self) -> dict[str, bytes]:
        return {**super().base(), "flags/production/new_checkout_flow.yaml": FLAG}

    async def flag_paths(self, sha: str):
        return None

    async def flag_modes(self, sha: str):
        return {p: "100644" for p in ("flags/production/new_checkout_flow.yaml", *self.changed)}


def test_a_duplicate_key_is_caught_when_the_base_tree_is_truncated():
    """flags/new_checkout_flow.yaml and flags/production/new_checkout_flow.yaml are one
    production flag; without the base listing the duplicate was not looked for, and merged."""
    gh = HugeRepository()
    gh.approve("mgr")
    gh.approve("qa")
    _, inp = asyncio.run(read_input(gh, 7))
    assert [p.code for p in inp.problems] == ["duplicate-flag"]
    assert not decide(inp).should_merge
