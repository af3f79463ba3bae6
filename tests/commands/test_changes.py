"""`flagbot changes`: real git repositories whose base is this repository's own flags/,
.github/flagbot.yml and .github/CODEOWNERS, and branches an author might push."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
FLAGS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "flags").rglob("*.yaml"))
SEEDED = [".github/flagbot.yml", ".github/CODEOWNERS", *FLAGS]
# Nothing from the machine's or the person's git configuration leaks into the tests.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ann Author",
    "GIT_AUTHOR_EMAIL": "ann@acme.example",
    "GIT_COMMITTER_NAME": "Ann Author",
    "GIT_COMMITTER_EMAIL": "ann@acme.example",
}
CHECKOUT = "flags/new_checkout_flow.yaml"
KILL_SWITCH = "flags/payments_kill_switch.yaml"


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def commit(repo: Path, message: str, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        path = repo / rel
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def branch(repo: Path, name: str, message: str, files: dict[str, str | None]) -> None:
    git(repo, "checkout", "-q", "-b", name, "main")
    commit(repo, message, files)
    git(repo, "checkout", "-q", "main")


def seeded(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def init(repo: Path, files: dict[str, str]) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "Seed the flags repository", files)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("flags-repo")
    init(repo, {p: seeded(p) for p in SEEDED} | {"README.md": "# Flags\n"})
    git(repo, "config", "user.name", "Dana Dev")

    checkout = seeded(CHECKOUT)
    ramped = checkout.replace("percentage: 5 ", "percentage: 25")
    branch(repo, "ramp", "Ramp checkout to 25%", {CHECKOUT: ramped})
    branch(
        repo,
        "kill",
        "Turn card payments off",
        {KILL_SWITCH: seeded(KILL_SWITCH).replace("enabled: true", "enabled: false")},
    )
    branch(
        repo,
        "staging-flag",
        "Add a staging flag",
        {"flags/staging/new_search_box.yaml": "name: New search box\nenabled: false\n"},
    )
    git(repo, "checkout", "-q", "-b", "rename", "main")
    git(repo, "mv", "flags/legacy_search.yaml", "flags/legacy_search_v1.yaml")
    git(repo, "commit", "-q", "-m", "Rename legacy_search")
    git(repo, "checkout", "-q", "main")
    branch(
        repo,
        "broken",
        "Ramp too far",
        {CHECKOUT: checkout.replace("percentage: 5 ", "percentage: 120")},
    )
    branch(
        repo,
        "outside",
        "Ramp checkout and document it",
        {CHECKOUT: ramped, "README.md": "# Flags\n\nCheckout is at 25 %.\n"},
    )
    branch(
        repo,
        "self-grant",
        "Ramp checkout, approved by me",
        {
            CHECKOUT: ramped,
            ".github/CODEOWNERS": "/flags/ @dana-dev\n",
            ".github/flagbot.yml": 'roles:\n  manager: ["@dana-dev"]\n  qa: ["@dana-dev"]\n',
        },
    )
    # Bases that moved on after the branches left main.
    branch(
        repo,
        "main-next",
        "Release managers may approve; new banner text",
        {
            ".github/flagbot.yml": seeded(".github/flagbot.yml").replace(
                'manager: ["@acme/eng-managers"]',
                'manager: ["@acme/eng-managers", "@acme/release-managers"]',
            ),
            ".github/CODEOWNERS": seeded(".github/CODEOWNERS").replace(
                "/flags/              @acme/eng-managers",
                "/flags/              @acme/release-managers @acme/eng-managers",
            ),
            "flags/checkout_banner_text.yaml": seeded("flags/checkout_banner_text.yaml").replace(
                "percentage: 25", "percentage: 50"
            ),
        },
    )
    branch(
        repo,
        "no-oncall",
        "On-call no longer owns flags",
        {".github/CODEOWNERS": seeded(".github/CODEOWNERS").replace(" @acme/oncall\n", "\n")},
    )
    return repo


@pytest.fixture
def in_repo(repo, monkeypatch) -> Path:
    monkeypatch.chdir(repo)
    for name, value in GIT_ENV.items():
        if name.startswith("GIT_CONFIG"):
            monkeypatch.setenv(name, value)
    return repo


def changes(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["changes", *args])
    out, err = capsys.readouterr()
    return code, out, err


def squeezed(text: str) -> list[str]:
    """Lines with runs of spaces collapsed, so assertions do not depend on column widths."""
    return [" ".join(line.split()) for line in text.splitlines()]


def sha(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", ref)


# Branches an author pushes ---------------------------------------------------------------------


def test_ramping_a_rollout_waits_for_manager_then_qa(in_repo, capsys):
    code, out, err = changes(capsys, "--base", "main", "--head", "ramp")
    main_sha, head = sha(in_repo, "main")[:7], sha(in_repo, "ramp")[:7]
    assert code == 0 and err == ""
    assert out == (
        f"main...ramp: merge base {main_sha} → head {head}\n"
        "Requested by Dana Dev: Ramp checkout to 25%\n"
        "\n"
        "Waiting for manager approval\n"
        "\n"
        "1. rollout new_checkout_flow (production)  flags/new_checkout_flow.yaml\n"
        "   field               before  after\n"
        "   rollout.percentage  5       25\n"
        "   needs               who may approve\n"
        "   manager approval    @acme/eng-managers\n"
        "   QA validation       @acme/qa\n"
        "\n"
        f"Rules: .github/flagbot.yml and .github/CODEOWNERS as on main ({main_sha}).\n"
        "Approvals come in this order: manager approval, then QA validation. One person holds "
        "at most one role, and nobody approves their own pull request.\n"
    )


def test_head_defaults_to_the_checked_out_commit(in_repo, capsys):
    git(in_repo, "checkout", "-q", "ramp")
    try:
        code, out, _ = changes(capsys, "--base", "main")
    finally:
        git(in_repo, "checkout", "-q", "main")
    assert code == 0
    assert "main...HEAD: merge base" in out
    assert "rollout.percentage 5 25" in squeezed(out)


def test_emergency_off_needs_oncall_only(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "main", "--head", "kill")
    lines = squeezed(out)
    assert code == 0
    assert "Waiting for oncall approval" in lines
    assert "1. toggle payments_kill_switch (production) flags/payments_kill_switch.yaml" in lines
    assert "enabled true false" in lines
    assert "oncall approval @acme/oncall" in lines
    assert not any(line.startswith(("manager approval", "QA validation")) for line in lines)


def test_a_new_staging_flag_needs_a_manager_only(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "main", "--head", "staging-flag")
    lines = squeezed(out)
    assert code == 0
    assert "1. create new_search_box (staging) flags/staging/new_search_box.yaml" in lines
    assert lines[6:9] == ["field value", 'name "New search box"', "enabled false"]
    assert "manager approval @acme/eng-managers" in lines
    assert not any(line.startswith("QA validation") for line in lines)


def test_a_renamed_flag_is_a_delete_and_a_create(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "main", "--head", "rename", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert [(c["change_type"], c["key"], c["path"]) for c in doc["changes"]] == [
        ("delete", "legacy_search", "flags/legacy_search.yaml"),
        ("create", "legacy_search_v1", "flags/legacy_search_v1.yaml"),
    ]
    deleted = doc["changes"][0]["fields"]
    assert {"field": "status", "before": "archived"} in deleted
    assert [r["role"] for c in doc["changes"] for r in c["roles"]] == ["manager", "qa"] * 2


def test_a_broken_flag_is_rejected_at_its_line_and_column(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "main", "--head", "broken")
    assert code == 1
    assert out.splitlines()[3:5] == [
        "Rejected: 1 validation error",
        "  flags/new_checkout_flow.yaml:20:15: rollout.percentage must be between 0 and 100, "
        "got 120",
    ]


def test_a_file_outside_flags_is_rejected_with_the_reason(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "main", "--head", "outside")
    lines = squeezed(out)
    assert code == 1
    assert "Rejected: not only flag files" in lines
    assert (
        "Besides flag files this pull request changes README.md. flagbot never merges those; "
        "move them to a separate pull request." in lines
    )
    assert "1. rollout new_checkout_flow (production) flags/new_checkout_flow.yaml" in lines


def test_a_branch_cannot_grant_itself_approval(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "main", "--head", "self-grant")
    lines = squeezed(out)
    assert code == 1  # the policy files are outside flags/ as well
    assert "manager approval @acme/eng-managers" in lines
    assert "QA validation @acme/qa" in lines
    assert "@dana-dev" not in out.replace("This branch", "")
    for path in (".github/CODEOWNERS", ".github/flagbot.yml"):
        assert (
            f"This branch changes {path}; the bot ignores that and judges with the version on "
            "main, so a pull request cannot grant itself approval." in lines
        )
    code, out, _ = changes(capsys, "--base", "main", "--head", "self-grant", "--format", "json")
    doc = json.loads(out)
    assert doc["ignored_rule_changes"] == [".github/CODEOWNERS", ".github/flagbot.yml"]
    assert doc["changes"][0]["roles"][0]["eligible"] == ["@acme/eng-managers"]


def test_rules_come_from_the_base_tip_and_the_diff_from_the_merge_base(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "main-next", "--head", "ramp")
    lines = squeezed(out)
    assert code == 0
    assert lines[0].startswith(f"main-next...ramp: merge base {sha(in_repo, 'main')[:7]} ")
    # The base's later banner change is not the branch's: only the ramp is a change request.
    assert [line for line in lines if line[:2] in ("1.", "2.")] == [
        "1. rollout new_checkout_flow (production) flags/new_checkout_flow.yaml"
    ]
    assert "manager approval @acme/release-managers @acme/eng-managers" in lines
    assert "Rules: .github/flagbot.yml and .github/CODEOWNERS as on main-next " in out


def test_a_role_without_an_owner_fails_closed(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "no-oncall", "--head", "kill")
    lines = squeezed(out)
    assert code == 1
    assert "Rejected: approval policy not satisfiable" in lines
    assert any(
        "flags/payments_kill_switch.yaml needs oncall approval but none of its code owners "
        "(@acme/eng-managers @acme/qa) has the role 'oncall'" in line
        for line in lines
    )
    assert "oncall approval nobody (the bot fails closed)" in lines


def test_no_difference_is_nothing_to_review(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "ramp", "--head", "main")
    assert code == 0
    assert "Nothing to review" in out.splitlines()


# JSON ------------------------------------------------------------------------------------------


def test_json_output_shape(in_repo, capsys):
    code, out, err = changes(capsys, "--base", "main", "--head", "ramp", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and err == ""
    assert doc["base"] == {"ref": "main", "sha": sha(in_repo, "main")}
    assert doc["head"] == {"ref": "ramp", "sha": sha(in_repo, "ramp")}
    assert doc["merge_base"] == sha(in_repo, "main")
    assert (doc["requested_by"], doc["reason"]) == ("Dana Dev", "Ramp checkout to 25%")
    assert (doc["step"], doc["title"], doc["rejected"]) == (
        "approval",
        "Waiting for manager approval",
        False,
    )
    assert doc["reasons"] == [] and doc["problems"] == []
    assert doc["changes"] == [
        {
            "key": "new_checkout_flow",
            "environment": "production",
            "change_type": "rollout",
            "path": "flags/new_checkout_flow.yaml",
            "fields": [{"field": "rollout.percentage", "before": 5, "after": 25}],
            "roles": [
                {
                    "role": "manager",
                    "label": "manager approval",
                    "eligible": ["@acme/eng-managers"],
                },
                {"role": "qa", "label": "QA validation", "eligible": ["@acme/qa"]},
            ],
        }
    ]
    assert doc["roles"] == [
        {
            "role": "manager",
            "label": "manager approval",
            "flags": ["flags/new_checkout_flow.yaml"],
            "eligible": ["@acme/eng-managers"],
        },
        {
            "role": "qa",
            "label": "QA validation",
            "flags": ["flags/new_checkout_flow.yaml"],
            "eligible": ["@acme/qa"],
        },
    ]
    assert doc["rules_from"] == {
        "ref": "main",
        "sha": sha(in_repo, "main"),
        "policy": ".github/flagbot.yml",
        "codeowners": ".github/CODEOWNERS",
    }
    assert doc["ignored_rule_changes"] == []


def test_json_problems_carry_line_and_column(in_repo, capsys):
    code, out, _ = changes(capsys, "--base", "main", "--head", "broken", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["rejected"] is True
    [problem] = doc["problems"]
    assert (problem["path"], problem["line"], problem["column"]) == (CHECKOUT, 20, 15)


# Usage errors ----------------------------------------------------------------------------------


def test_outside_a_git_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, out, err = changes(capsys, "--base", "main")
    assert code == 2 and out == ""
    assert err.startswith(f"flagbot changes: not a git work tree: {tmp_path} (")
    assert "run this inside your checkout" in err


def test_unknown_refs(in_repo, capsys):
    code, out, err = changes(capsys, "--base", "mian")
    assert code == 2 and out == ""
    assert err.startswith("flagbot changes: unknown ref 'mian': no branch, tag or commit")
    assert changes(capsys, "--base", "main", "--head", "nope")[0] == 2
    code, _, err = changes(capsys, "--base=--all")
    assert code == 2 and "'--all' is not a ref" in err


def test_base_is_required(in_repo, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["changes"])
    assert exit_.value.code == 2
    assert "--base" in capsys.readouterr().err


def test_unrelated_histories(in_repo, capsys):
    git(in_repo, "checkout", "-q", "--orphan", "unrelated")
    try:
        git(in_repo, "commit", "-q", "-m", "Start over")
        code, _, err = changes(capsys, "--base", "main", "--head", "unrelated")
    finally:
        git(in_repo, "checkout", "-q", "-f", "main")
    assert code == 2
    assert "share no history" in err


# A repository of its own ----------------------------------------------------------------------


@pytest.fixture
def fresh(tmp_path, monkeypatch) -> Path:
    """This repository's base, no user.name configured, checked out on a branch."""
    repo = tmp_path / "fresh"
    init(repo, {p: seeded(p) for p in SEEDED})
    git(repo, "checkout", "-q", "-b", "work")
    monkeypatch.chdir(repo)
    for name, value in GIT_ENV.items():
        if name.startswith("GIT_CONFIG"):
            monkeypatch.setenv(name, value)
    return repo


def test_requested_by_falls_back_to_the_commit_author(fresh, capsys):
    commit(fresh, "Kill card payments", {KILL_SWITCH: "name: Card payments\nenabled: false\n"})
    code, out, _ = changes(capsys, "--base", "main")
    assert code == 0
    assert out.splitlines()[1] == "Requested by Ann Author: Kill card payments"


def test_uncommitted_flag_changes_are_not_included_and_say_so(fresh, capsys):
    (fresh / CHECKOUT).write_text("name: Broken\nrollout: {percentage: 120}\n")
    code, out, err = changes(capsys, "--base", "main")
    assert code == 0
    assert "Nothing to review" in out
    assert err.strip() == (
        "flagbot changes: flags/ has uncommitted changes, which are not included; commit them "
        "to see what the bot will ask for"
    )
    # Not when the head under review is another commit than HEAD.
    git(fresh, "commit", "-q", "--allow-empty", "-m", "Empty")
    assert changes(capsys, "--base", "work", "--head", "main")[2] == ""


def test_a_base_without_flagbot_yml_is_rejected(fresh, capsys):
    git(fresh, "checkout", "-q", "-b", "bare-base", "main")
    commit(fresh, "No policy", {".github/flagbot.yml": None})
    git(fresh, "checkout", "-q", "work")
    commit(fresh, "Ramp", {CHECKOUT: seeded(CHECKOUT).replace("percentage: 5 ", "percentage: 25")})
    code, out, _ = changes(capsys, "--base", "bare-base")
    assert code == 1
    assert "Rejected: no valid policy on the base branch" in out
    assert ".github/flagbot.yml is missing on the base branch" in out


def test_python_dash_m_bot_changes(repo):
    env = {**os.environ, **{k: v for k, v in GIT_ENV.items() if k.startswith("GIT_CONFIG")}}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "changes", "--base", "main", "--head", "broken"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "flags/new_checkout_flow.yaml:20:15:" in run.stdout
    help_text = subprocess.run(
        [sys.executable, "-m", "bot", "changes", "--help"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "uncommitted changes are not included" in help_text


def test_a_symlinked_flag_is_refused_before_anyone_approves(fresh, capsys):
    os.symlink("payments_kill_switch.yaml", fresh / "flags" / "sneaky_link.yaml")
    git(fresh, "add", "-A")
    git(fresh, "commit", "-q", "-m", "Add a link")
    code, out, _ = changes(capsys, "--base", "main")
    assert code == 1
    assert "flags/sneaky_link.yaml is a symlink (mode 120000): flags must be regular files" in out


def test_removing_an_invalid_location_is_refused(fresh, capsys):
    commit(fresh, "Keep a template", {"flags/_template.yaml": "name: Template\n"})
    git(fresh, "branch", "-f", "main", "HEAD")
    commit(fresh, "Drop the template", {"flags/_template.yaml": None})
    code, out, _ = changes(capsys, "--base", "main")
    assert code == 1
    assert "removes flags/_template.yaml, which is not a valid flag location" in " ".join(
        squeezed(out)
    )
