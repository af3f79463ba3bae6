"""A flags repository written by `flagbot init`, as a new repository on the local GitHub (its
first commit), run by the composite action.

The action's `run:` steps run as the Actions runner runs them (tests/workflows/runner.py),
with the inputs the reusable workflow passes it: flagbot is built and installed from a copy of
this checkout (what the runner downloads for `uses: <owner>/flagbot/...@<ref>`), offline, into
an interpreter standing in for setup-python's.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.emulator.emulator import Emulator
from bot.release import HOME_REPOSITORY
from tests.emulator_harness import REPO, TOKENS, seed_for
from tests.workflows.runner import Context, Runner

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
SHA = "0123456789abcdef0123456789abcdef01234567"
FIRST_COMMIT = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)  # long before now: the stage is due


def scaffold(tmp_path: Path) -> dict[str, str]:
    """What `flagbot init` writes, read back from the folder it wrote."""
    target = tmp_path / "init"
    assert main(["init", str(target), "--org", "acme", "--ref", SHA]) == 0
    return {
        p.relative_to(target).as_posix(): p.read_text() for p in target.rglob("*") if p.is_file()
    }


def action_step(workflow: str) -> tuple[dict, dict[str, str], dict]:
    """The reusable workflow's step that calls the action, and its evaluated `with:`."""
    data = yaml.safe_load((WORKFLOWS / workflow).read_text())
    inputs = data[True]["workflow_call"].get("inputs", {})
    defaults = {k: v.get("default", "") for k, v in inputs.items()}
    [job] = data["jobs"].values()
    [step] = [s for s in job["steps"] if s.get("uses") == "./.flagbot/.github/actions/flagbot"]
    return step, defaults, job


@pytest.fixture(scope="module")
def flagbot_copy(tmp_path_factory) -> Path:
    """This checkout's files as the runner downloads the action's repository."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs flagbot as a git checkout (to copy its files like the runner does)")
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    target = tmp_path_factory.mktemp("flagbot-at-ref")
    for rel in filter(None, listed.split("\0")):
        if (ROOT / rel).is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, target / rel)
    return target


@pytest.fixture(scope="module")
def python_bin(tmp_path_factory) -> Path:
    """Stands in for actions/setup-python: a fresh interpreter whose pip sees this
    environment's packages (so installing flagbot needs no network)."""
    venv = tmp_path_factory.mktemp("setup-python")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    [packages] = list(venv.glob("lib/python3*/site-packages"))
    (packages / "outer.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv / "bin"


def make_runner(tmp_path: Path, flagbot_copy: Path, python_bin: Path, **job_env: str) -> Runner:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    env = {
        "PATH": f"{python_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling of --no-build-isolation
        "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
        "GITHUB_ACTIONS": "true",
        **job_env,
    }
    return Runner(
        action_path=flagbot_copy / ".github" / "actions" / "flagbot",
        workspace=workspace,
        temp=temp,
        job_env=env,
        github={"token": TOKENS["flagbot"]},
        uses_outputs={"python": {"python-version": ".".join(map(str, sys.version_info[:3]))}},
    )


def checkout(runner: Runner, files: dict[str, str | bytes]) -> None:
    """actions/checkout of the flags repository into the workspace."""
    for path, content in files.items():
        target = runner.workspace / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())


def check_out_flagbot(runner: Runner, job: dict, step: dict, ctx: Context, copy: Path) -> None:
    """The job's checkout of flagbot, as actions/checkout makes it: the pinned repository and
    ref into a folder of the flags checkout, where the step's `./` reference finds the action."""
    before = job["steps"][: job["steps"].index(step)]
    [flagbot] = [s for s in before if s.get("with", {}).get("repository")]
    options = {k: ctx.render(v) for k, v in flagbot["with"].items()}
    assert (options["repository"], options["ref"]) == (HOME_REPOSITORY, SHA)
    assert options["persist-credentials"] == "false"
    target = runner.workspace / options["path"]
    assert not target.exists(), "the flagbot checkout would clobber the flags checkout"
    shutil.copytree(copy, target, symlinks=True)
    runner.action_path = runner.workspace / step["uses"].removeprefix("./")


def run_reusable(runner: Runner, workflow: str, copy: Path, **workflow_inputs: object) -> int:
    """The reusable workflow's job after the flags checkout: flagbot's checkout, then the
    action, with the inputs a caller that pinned `@SHA` passes."""
    step, defaults, job = action_step(workflow)
    ctx = Context(
        {
            "inputs": {**defaults, "flagbot-ref": SHA, **workflow_inputs},
            "github": runner.github,
            "steps": {},  # no App token step ran: `steps.app.outputs.token || github.token`
            "secrets": {},  # no notification secrets set
        }
    )
    check_out_flagbot(runner, job, step, ctx, copy)
    given = {k: ctx.render(v) for k, v in step["with"].items()}
    caller_env = {k: ctx.render(v) for k, v in (step.get("env") or {}).items()}
    return runner.run(given, caller_env)


def test_validate_annotates_the_diff_and_writes_a_summary(tmp_path, flagbot_copy, python_bin):
    runner = make_runner(tmp_path, flagbot_copy, python_bin)
    bad = "name: Broken\nrollout:\n  percentage: 120\n"
    checkout(runner, {**scaffold(tmp_path), "flags/staging/broken.yaml": bad})
    assert run_reusable(runner, "flagbot-validate.yml", flagbot_copy) == 1
    names = [r.name for r in runner.results]
    assert names[-1] == "flagbot validate"
    assert [r.returncode for r in runner.results[-2:]] == [0, 1], runner.results[-2:]
    install = runner.results[-2]
    assert install.stdout.strip() == "flagbot 0.1.0"
    annotations = [ln for ln in runner.results[-1].stdout.splitlines() if ln.startswith("::")]
    assert annotations and all(
        a.startswith("::error file=flags/staging/broken.yaml,line=3,") for a in annotations
    ), annotations
    summary = runner.summary.read_text()
    assert summary.startswith("### flagbot validate\n")
    assert "flags/staging/broken.yaml:3:" in summary


def test_rollout_commits_the_bump_that_is_due(tmp_path, flagbot_copy, python_bin):
    files = scaffold(tmp_path)
    emulator = Emulator.from_seed(
        seed_for(files, clock=FIRST_COMMIT.strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    with emulator.serve_in_thread() as url:
        runner = make_runner(
            tmp_path,
            flagbot_copy,
            python_bin,
            GITHUB_API_URL=url,
            GITHUB_REPOSITORY=REPO,
            GITHUB_REF_NAME="main",
            FLAGBOT_WRITE_PAUSE="0",
        )
        with emulator.lock:
            before = emulator.repo(REPO).git.branch("main")
        checkout(runner, files)
        code = run_reusable(runner, "flagbot-rollout.yml", flagbot_copy)
        result = runner.results[-1]
        assert code == 0, (result.stdout, result.stderr)
        with emulator.lock:
            git = emulator.repo(REPO).git
            head = git.branch("main")
            commit = git.store.commit(head)
            flat = git.flat(head)
            flag = git.store.blob(flat["flags/example_flag.yaml"][1]).decode()
    assert head != before and tuple(commit.parents) == (before,)
    assert commit.message.startswith("rollout: example_flag 5% → 25% (early)")
    assert "  percentage: 25 " in flag
    assert "rollout: example_flag 5% → 25% (early)" in result.stdout


def test_export_writes_one_file_per_environment(tmp_path, flagbot_copy, python_bin):
    if not (ROOT / "bot" / "commands" / "export.py").exists():
        pytest.skip("`flagbot export` is not in this checkout yet (issue #12)")
    runner = make_runner(tmp_path, flagbot_copy, python_bin)
    checkout(runner, scaffold(tmp_path))
    code = run_reusable(runner, "flagbot-publish.yml", flagbot_copy)
    assert code == 0, runner.results[-1]
    assert sorted(p.name for p in (runner.workspace / "flagbot-exports").iterdir())


def test_an_unknown_command_fails_with_an_annotation(tmp_path, flagbot_copy, python_bin):
    runner = make_runner(tmp_path, flagbot_copy, python_bin)
    checkout(runner, scaffold(tmp_path))
    assert runner.run({"command": "deploy"}) == 2
    assert "::error title=flagbot::unknown command 'deploy'" in runner.results[-1].stdout


def test_sweep_runs_against_the_repository(tmp_path, flagbot_copy, python_bin):
    files = scaffold(tmp_path)
    emulator = Emulator.from_seed(seed_for(files))
    with emulator.serve_in_thread() as url:
        runner = make_runner(
            tmp_path,
            flagbot_copy,
            python_bin,
            GITHUB_API_URL=url,
            GITHUB_REPOSITORY=REPO,
            GITHUB_REF_NAME="main",
        )
        checkout(runner, files)
        step, _, _ = action_step("flagbot-sweep.yml")
        assert step["with"]["command"] == "sweep"
        code = runner.run({"command": "sweep", "github-token": TOKENS["flagbot"]})
    assert code == 0, runner.results[-1]


def test_guard_variables_are_exported_as_data_never_run(tmp_path, flagbot_copy, python_bin):
    runner = make_runner(tmp_path, flagbot_copy, python_bin)
    checkout(runner, scaffold(tmp_path))
    marker = tmp_path / "ran"
    guard_env = f"FLAGBOT_PROMETHEUS_URL=http://prom:9090/?q=a=b\nTOKEN=$(touch {marker})`id`"
    assert runner.run({"command": "validate"}, {"FLAGBOT_GUARD_ENV": guard_env}) == 0
    assert not marker.exists()
    runner.results.clear()
    bad = "FLAGBOT_PROMETHEUS_URL=http://prom:9090\nnot a name=1"
    assert runner.run({"command": "validate"}, {"FLAGBOT_GUARD_ENV": bad}) == 2
    assert "FLAGBOT_GUARD_ENV: each line is NAME=value" in runner.results[-1].stdout
