"""Every workflow and action here, and every file `flagbot init` writes, passes the linters
a careful adopter runs: zizmor (offline, default persona), check-jsonschema (SchemaStore's
workflow and action schemas, bundled with it) and actionlint; plus the rules the linters do
not enforce: pins by commit with a version comment, no credentials left in checkouts,
permissions granted per job, and inputs that reach a shell only through the environment.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
SHA = "0123456789abcdef0123456789abcdef01234567"
PINNED = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"uses: \S+@[0-9a-f]{40} +# v\d+(\.\d+)*$")


def tool(name: str) -> str:
    """A linter installed with the test extra, next to this interpreter (or on PATH)."""
    found = Path(sys.executable).with_name(name)
    path = str(found) if found.exists() else shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]' installs it)")
    return path


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("flags-repo")
    assert main(["init", str(target), "--org", "acme", "--ref", SHA]) == 0
    return target


def lint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


# -- the linters --------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["this repository", "flagbot init"])
def test_zizmor_finds_nothing(where, scaffolded):
    root = ROOT if where == "this repository" else scaffolded
    done = lint(tool("zizmor"), "--offline", "--format", "json", ".github", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize("where", ["this repository", "flagbot init"])
def test_workflows_meet_schemastore_schema(where, scaffolded):
    root = ROOT if where == "this repository" else scaffolded
    files = sorted(str(p) for p in (root / ".github" / "workflows").glob("*.yml"))
    assert files
    done = lint(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files, cwd=root
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_and_dependabot_meet_schemastore_schemas():
    check = tool("check-jsonschema")
    done = lint(check, "--builtin-schema", "vendor.github-actions", *map(str, ACTIONS), cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    dependabot = str(GITHUB / "dependabot.yml")
    done = lint(check, "--builtin-schema", "vendor.dependabot", dependabot, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("where", ["this repository", "flagbot init"])
def test_actionlint_finds_nothing(where, scaffolded):
    root = ROOT if where == "this repository" else scaffolded
    files = sorted(str(p) for p in (root / ".github" / "workflows").glob("*.yml"))
    done = lint(tool("actionlint"), "-no-color", *files, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


# -- what the linters leave to us -------------------------------------------------------------


def uses_lines(path: Path) -> list[str]:
    lines = (ln.strip().removeprefix("- ") for ln in path.read_text().splitlines())
    return [ln for ln in lines if ln.startswith("uses:")]


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_actions_are_pinned_by_commit_with_the_version_in_a_comment(path):
    for line in uses_lines(path):
        target = line.split("uses:", 1)[1].split("#")[0].strip()
        if target.startswith("./"):
            continue  # this repository's own files (tests/workflows/test_references.py)
        assert PINNED.fullmatch(target), line
        assert VERSION_COMMENT.fullmatch(line), f"{line}: say which release the sha is"


def steps(data: dict) -> list[dict]:
    if "runs" in data:
        return data["runs"]["steps"]
    return [s for job in data["jobs"].values() for s in job.get("steps", [])]


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_checkouts_keep_no_credentials_and_scripts_take_no_expressions(path):
    data = yaml.safe_load(path.read_text())
    for step in steps(data):
        if "actions/checkout@" in step.get("uses", ""):
            assert step.get("with", {}).get("persist-credentials") is False, step
        if "run" in step:
            assert "${{" not in step["run"], f"{path.name}: pass it through env: {step['run']}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_granted_per_job(path):
    data = yaml.safe_load(path.read_text())
    assert data["permissions"] == {}
    for name, job in data["jobs"].items():
        assert job.get("permissions"), f"{path.name}: job {name} names the permissions it needs"
        assert "write-all" not in str(job["permissions"])


def test_dependabot_watches_actions_and_pip():
    data = yaml.safe_load((GITHUB / "dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in data["updates"]} == {"github-actions", "pip"}
