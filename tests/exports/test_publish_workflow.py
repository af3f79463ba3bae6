"""The publish workflow: minimal permissions, actions pinned by commit, and its steps run for
real (the export commands, then the commit to a local bare repository standing for GitHub):
the branch is created, left alone when nothing changed, and moved by one commit otherwise."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


def load() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the bare key `on` as a boolean
    return data


def step(name: str) -> dict:
    [job] = load()["jobs"].values()
    return next(s for s in job["steps"] if s.get("name") == name)


def test_runs_on_pushes_to_the_default_branch_touching_flags_with_least_privilege():
    data = load()
    assert set(data["on"]["push"]["paths"]) == {"flags/**", ".github/flagbot.yml"}
    assert data["permissions"] == {}
    [job] = data["jobs"].values()
    assert job["permissions"] == {"contents": "write"}
    assert "default_branch" in job["if"]
    assert data["concurrency"]["cancel-in-progress"] is False


def test_actions_are_pinned_by_full_commit_sha_with_a_version_comment():
    lines = [ln for ln in WORKFLOW.read_text().splitlines() if "uses:" in ln]
    assert lines
    for line in lines:
        assert re.search(r"uses: [\w-]+/[\w-]+@[0-9a-f]{40}\s+# v\d+\.\d+\.\d+$", line), line


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")
def test_the_steps_export_and_commit_by_compare_and_swap(tmp_path):
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    remote = tmp_path / "remote.git"
    git("init", "--bare", "--quiet", str(remote), cwd=tmp_path)
    work = tmp_path / "work"  # the job's checkout: only its object store is used
    work.mkdir()
    git("init", "--quiet", cwd=work)
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GH_TOKEN": "not-used-by-a-local-remote",
        "REMOTE": str(remote),
        "BRANCH": "flagbot-exports",
        "EXPORTS": str(runner_temp / "exports"),
        "SOURCE": "abc123",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }  # fmt: skip

    def run(name: str, cwd: Path) -> str:
        done = subprocess.run(
            ["bash", "-c", step(name)["run"]], cwd=cwd, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("Export", ROOT)
    assert sorted(p.name for p in (runner_temp / "exports").iterdir()) == [
        "production.flagd.json", "production.unleash.json",
        "staging.flagd.json", "staging.unleash.json",
    ]  # fmt: skip
    run("Commit to flagbot-exports", work)
    first = git("rev-parse", "refs/heads/flagbot-exports", cwd=remote)
    files = git("ls-tree", "--name-only", first, cwd=remote).splitlines()
    assert files == sorted(p.name for p in (runner_temp / "exports").iterdir())
    assert "up to date" in run("Commit to flagbot-exports", work)
    assert git("rev-parse", "refs/heads/flagbot-exports", cwd=remote) == first

    (runner_temp / "exports" / "staging.flagd.json").write_text("{}\n")
    run("Commit to flagbot-exports", work)
    second = git("rev-parse", "refs/heads/flagbot-exports", cwd=remote)
    assert second != first
    assert git("rev-parse", f"{second}^", cwd=remote) == first
    assert git("show", f"{second}:staging.flagd.json", cwd=remote) == "{}"
