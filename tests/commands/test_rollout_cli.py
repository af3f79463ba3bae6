"""`flagbot rollout` without GitHub: usage errors, and the dry run from local history."""

from datetime import UTC, datetime

import pytest

from bot.cli import main
from tests.rollout.gitrepo import commit_files

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
FLOW = "name: Flow\nrollout:\n  percentage: 5\n  stages: [5, 25, 50, 75, 100]\n  every: 60m\n"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL", "GITHUB_REF_NAME"):
        monkeypatch.delenv(name, raising=False)


def test_committing_needs_the_actions_variables(tmp_path, capsys):
    commit_files(tmp_path, {"flags/new_checkout_flow.yaml": FLOW}, T0)
    assert main(["rollout", "--repo-dir", str(tmp_path)]) == 2
    assert "GITHUB_TOKEN and GITHUB_REPOSITORY must be set" in capsys.readouterr().err


def test_dry_run_uses_local_history_and_writes_nothing(tmp_path, capsys):
    commit_files(tmp_path, {"flags/new_checkout_flow.yaml": FLOW}, T0)
    args = ["rollout", "--repo-dir", str(tmp_path), "--dry-run"]
    assert main([*args, "--now", "2026-11-27T09:59:59Z"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "0 due" in err
    assert main([*args, "--now", "2026-11-27T10:00:00Z"]) == 0
    out, err = capsys.readouterr()
    assert out == "would bump  rollout: new_checkout_flow 5% → 25% (early)\n"
    assert "1 due (1 would-bump); dry run, nothing written" in err
    assert (tmp_path / "flags/new_checkout_flow.yaml").read_text() == FLOW


def test_dry_run_reports_invalid_files_with_position(tmp_path, capsys):
    bad = "name: [\nrollout: {percentage: 5, stages: [5, 100]}\n"
    commit_files(tmp_path, {"flags/a.yaml": FLOW, "flags/bad.yaml": bad}, T0)
    args = ["rollout", "--repo-dir", str(tmp_path), "--dry-run", "--format", "github"]
    assert main([*args, "--now", "2026-11-27T10:00:00Z"]) == 1
    out, err = capsys.readouterr()
    assert "would bump  rollout: a 5% → 25% (early)" in out
    assert "::error file=flags/bad.yaml,line=3,col=1::YAML syntax error" in err


def test_bad_committer_is_a_usage_error(tmp_path, capsys):
    commit_files(tmp_path, {"flags/a.yaml": FLOW}, T0)
    assert main(["rollout", "--repo-dir", str(tmp_path), "--committer", "bot", "--dry-run"]) == 2
    assert "is not `Name <email>`" in capsys.readouterr().err


def test_dry_run_without_history_or_github_says_what_it_cannot_date(tmp_path, capsys):
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "a.yaml").write_text(FLOW)
    assert main(["rollout", "--repo-dir", str(tmp_path), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert "note: flags/a.yaml: the file does not record when its stage began" in err
    assert "set GITHUB_TOKEN and GITHUB_REPOSITORY" in err
