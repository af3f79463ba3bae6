"""Validating a whole repository snapshot: per-file problems plus the rules across files."""

from __future__ import annotations

from pathlib import Path

from bot.diagnostics import Diagnostic
from bot.flags.location import is_flag_path
from bot.policy.config import POLICY_PATH
from bot.validation import CHECKS, Repository, validate_snapshot

ROOT = Path(__file__).resolve().parent.parent
POLICY = b'roles:\n  manager: ["@m/m"]\n  qa: ["@q/q"]\n'
FLAG = b"name: A flag\n"
CODEOWNERS = (".github/CODEOWNERS", b"/flags/ @m/m @q/q\n")
BASE = {POLICY_PATH: POLICY, CODEOWNERS[0]: CODEOWNERS[1]}


def repository_snapshot() -> dict[str, bytes]:
    files = [ROOT / POLICY_PATH, ROOT / CODEOWNERS[0], *(ROOT / "flags").rglob("*")]
    return {
        p.relative_to(ROOT).as_posix(): p.read_bytes()
        for p in files
        if p.is_file()
        and (
            is_flag_path(p.relative_to(ROOT).as_posix()) or p.name in ("flagbot.yml", "CODEOWNERS")
        )
    }


def codes(result) -> list[tuple[str, str]]:
    return sorted((d.path, d.code) for d in result.diagnostics)


def test_this_repositorys_flags_and_policy_are_clean():
    result = validate_snapshot(repository_snapshot())
    assert [str(d) for d in result.diagnostics] == []
    assert result.ok
    keys = {(f.environment, f.key) for f in result.repository.flags}
    assert ("production", "new_checkout_flow") in keys
    assert any(env == "staging" for env, _ in keys)
    checkout = next(f for f in result.repository.flags if f.key == "new_checkout_flow")
    assert (checkout.enabled, checkout.default, checkout.value) == (True, False, True)
    assert checkout.rollout.percentage == 5
    assert checkout.rollout.stages == (5, 25, 50, 75, 100)
    assert result.summary() == f"{len(result.flag_paths)} flags, 2 policy files: no problems"


def test_the_same_key_twice_in_one_environment():
    result = validate_snapshot(
        {
            **BASE,
            "flags/a.yaml": FLAG,
            "flags/a.yml": FLAG,
            "flags/staging/a.yaml": FLAG,
        }
    )
    assert codes(result) == [("flags/a.yaml", "duplicate-flag"), ("flags/a.yml", "duplicate-flag")]
    first = next(d for d in result.diagnostics if d.path == "flags/a.yaml")
    assert "also defined by flags/a.yml" in first.message


def test_keys_differing_only_in_case_clash():
    result = validate_snapshot({**BASE, "flags/Beta.yaml": FLAG, "flags/beta.yaml": FLAG})
    assert {d.code for d in result.diagnostics} == {"duplicate-flag"}


def test_a_default_environment_folder_clashes_with_top_level_files():
    result = validate_snapshot({**BASE, "flags/a.yaml": FLAG, "flags/production/a.yaml": FLAG})
    assert len(result.diagnostics) == 2


def test_a_broken_flag_still_takes_part_in_the_duplicate_check():
    result = validate_snapshot({**BASE, "flags/a.yaml": b"name: 1\n", "flags/a.yml": FLAG})
    assert codes(result) == [
        ("flags/a.yaml", "duplicate-flag"),
        ("flags/a.yaml", "wrong-type"),
        ("flags/a.yml", "duplicate-flag"),
    ]


def test_environment_folders_must_be_declared_when_environments_are_listed():
    policy = POLICY + b"environments: [production, staging]\n"
    result = validate_snapshot(
        {**BASE, POLICY_PATH: policy, "flags/qa/a.yaml": FLAG, "flags/staging/b.yaml": FLAG}
    )
    assert codes(result) == [("flags/qa/a.yaml", "unknown-environment")]
    assert "add it there or move the file" in result.diagnostics[0].message
    # Without the list, any folder is an environment.
    assert validate_snapshot({**BASE, "flags/qa/a.yaml": FLAG}).ok


def test_the_policy_sets_the_default_environment_and_every():
    policy = POLICY + b"default_environment: live\nrollout:\n  every: 2h\n"
    result = validate_snapshot(
        {POLICY_PATH: policy, "flags/a.yaml": FLAG + b"rollout: {percentage: 5}\n"}
    )
    (flag,) = result.repository.flags
    assert flag.environment == "live"
    assert flag.rollout.every.total_seconds() == 7200


def test_a_missing_or_broken_policy_is_reported_and_flags_are_still_checked():
    result = validate_snapshot({"flags/a.yaml": b"name: [x]\n"})
    assert codes(result) == [(POLICY_PATH, "missing-policy"), ("flags/a.yaml", "wrong-type")]
    assert result.summary() == "1 flag, 0 policy files: 2 errors in 2 files"
    result = validate_snapshot({POLICY_PATH: b"roles: {}\n", "flags/a.yaml": FLAG})
    assert result.repository.policy.is_null
    assert [d.code for d in result.diagnostics] == ["missing-role"]
    assert validate_snapshot({"flags/a.yaml": FLAG}, require_policy=False).ok


def test_files_that_are_not_flags_are_ignored():
    result = validate_snapshot(
        {
            **BASE,
            "flags/README.md": b"\xff",
            "src/x.yaml": b": :",
            "flags/a.yaml": FLAG,
        }
    )
    assert result.ok and result.flag_paths == ("flags/a.yaml",)


def test_checks_are_pluggable():
    def no_archived(repo: Repository):
        for flag in repo.flags:
            if flag.status == "archived":
                yield Diagnostic(flag.path, 1, 1, "archived", "warning", "archived")

    snapshot = {**BASE, "flags/a.yaml": FLAG + b"status: archived\n"}
    result = validate_snapshot(snapshot, checks=(*CHECKS, no_archived))
    assert [d.code for d in result.diagnostics] == ["archived"]
    assert result.ok  # warnings do not fail
    assert result.summary() == "1 flag, 2 policy files: 1 warning in 1 file"


def test_restricting_to_some_paths():
    result = validate_snapshot(
        {**BASE, "flags/a.yaml": b"name: 1\n", "flags/staging/b.yaml": b"name: 1\n"}
    )
    only = result.restricted(lambda p: p.startswith("flags/staging/"))
    assert [d.path for d in only.diagnostics] == ["flags/staging/b.yaml"]
    assert only.summary() == "1 flag, 0 policy files: 1 error in 1 file"
