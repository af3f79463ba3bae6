"""Every `uses:` resolves where GitHub resolves it, in this repository and in what `flagbot
init` writes.

`$/` is no released Actions syntax, and a `./` action inside a called workflow (`on:
workflow_call`) resolves against the caller's workspace, not flagbot's repository. So a called
workflow reaches flagbot's action only through a checkout of flagbot (at the repository and
ref its caller passes) into the folder the `./` names, made after any checkout into the
workspace itself, which would clean that folder away.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest
import yaml

from bot.cli import main
from bot.release import HOME_REPOSITORY

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
DOLLAR_SLASH = re.compile(r"uses:\s*['\"]?\$/")  # in comments too: they are copied
SHA = "0123456789abcdef0123456789abcdef01234567"
FLAGBOT_CHECKOUT = {
    "repository": "${{ inputs.flagbot-repository }}",
    "ref": "${{ inputs.flagbot-ref }}",
}


def folder(path: object) -> str:
    """A checkout's `path:` (or a `./` reference's folder) as a normalised relative path."""
    return PurePosixPath(str(path or ".").strip().removeprefix("./")).as_posix()


def local_target(uses: str) -> str | None:
    """The folder a `./` action reference names; None for any other reference."""
    return folder(uses) if uses.startswith("./") else None


def step_problems(steps: list[dict], called: bool, where: str) -> list[str]:
    """Problems of one job's (or one composite action's) steps, in order."""
    problems = []
    flagbot_at: set[str] = set()  # folders holding a checkout of flagbot, right now
    for index, step in enumerate(steps):
        uses = str(step.get("uses", ""))
        here = f"{where} step {index + 1}"
        if uses.startswith("$/"):
            problems.append(f"{here}: `$/` is not GitHub Actions syntax ({uses})")
        if "actions/checkout@" in uses:
            options = step.get("with") or {}
            path = folder(options.get("path"))
            if path == ".":
                flagbot_at.clear()  # checking out into the workspace cleans it
            else:
                flagbot_at = {p for p in flagbot_at if not p.startswith(f"{path}/")}
                flagbot_at.discard(path)
            if {k: options.get(k) for k in FLAGBOT_CHECKOUT} == FLAGBOT_CHECKOUT:
                flagbot_at.add(path)
        target = local_target(uses)
        if target is None or not called:
            continue
        if not any(target == p or target.startswith(f"{p}/") for p in flagbot_at - {"."}):
            problems.append(
                f"{here}: {uses} resolves in the caller's workspace; check out flagbot "
                "(inputs.flagbot-repository at inputs.flagbot-ref) into that folder first"
            )
    return problems


def reference_problems(data: dict, where: str) -> list[str]:
    """Problems of one parsed workflow or action file."""
    if "runs" in data:  # a composite action: its `./` resolves in the workspace too
        return step_problems(data["runs"].get("steps", []), True, where)
    on = data.get("on", data.get(True)) or {}
    called = "workflow_call" in on
    problems = []
    for name, job in (data.get("jobs") or {}).items():
        uses = str(job.get("uses", ""))
        if uses.startswith("$/"):
            problems.append(f"{where} job {name}: `$/` is not GitHub Actions syntax ({uses})")
        if called and uses.startswith("./"):
            problems.append(f"{where} job {name}: {uses} resolves in the caller's repository")
        problems += step_problems(job.get("steps") or [], called, f"{where} job {name}")
    return problems


def files_under(root: Path) -> list[Path]:
    github = root / ".github"
    return sorted([*github.glob("workflows/*.yml"), *github.glob("actions/*/action.yml")])


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("flags-repo")
    assert main(["init", str(target), "--org", "acme", "--ref", SHA]) == 0
    return target


@pytest.mark.parametrize("where", ["this repository", "flagbot init"])
def test_every_reference_resolves_where_github_resolves_it(where, scaffolded):
    root = ROOT if where == "this repository" else scaffolded
    files = files_under(root)
    assert files
    problems = []
    for path in files:
        assert not DOLLAR_SLASH.search(path.read_text()), f"{path}: `$/` is no Actions syntax"
        rel = path.relative_to(root).as_posix()
        problems += reference_problems(yaml.safe_load(path.read_text()), rel)
    assert problems == []


def test_the_check_catches_each_way_to_get_it_wrong():
    flags = {"uses": "actions/checkout@" + SHA, "with": {"persist-credentials": False}}
    flagbot = {
        "uses": "actions/checkout@" + SHA,
        "with": {**FLAGBOT_CHECKOUT, "path": ".flagbot", "persist-credentials": False},
    }
    action = {"uses": "./.flagbot/.github/actions/flagbot"}

    def called(*steps: dict, job_uses: str | None = None) -> list[str]:
        job = {"uses": job_uses} if job_uses else {"runs-on": "x", "steps": list(steps)}
        return reference_problems({True: {"workflow_call": {}}, "jobs": {"j": job}}, "w")

    assert called(flags, flagbot, action) == []
    assert called(flags, action)  # no checkout of flagbot at all
    assert called(flags, action, flagbot)  # checked out after the use
    assert called(flagbot, flags, action)  # the flags checkout cleans .flagbot away
    other = {**flagbot, "with": {**flagbot["with"], "path": "elsewhere"}}
    assert called(flags, other, action)  # flagbot, but not where the `./` points
    unpinned = {**flagbot, "with": {"path": ".flagbot", "persist-credentials": False}}
    assert called(flags, unpinned, action)  # a checkout of the caller, not of flagbot
    assert called(flags, {"uses": "$/.github/actions/flagbot"})
    assert called(job_uses="./.github/workflows/x.yml")
    assert called(job_uses="$/.github/workflows/x.yml")
    # Outside a called workflow `./` is this repository at this commit: fine.
    push = {True: {"push": None}, "jobs": {"j": {"uses": "./.github/workflows/x.yml"}}}
    assert reference_problems(push, "w") == []
    composite = {"runs": {"using": "composite", "steps": [action]}}
    assert reference_problems(composite, "a")


def reusable(name: str) -> dict:
    return yaml.safe_load((GITHUB / "workflows" / name).read_text())


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (GITHUB / "workflows").glob("flagbot-*.yml"))
)
def test_reusable_workflows_take_flagbot_repository_and_ref(name):
    inputs = reusable(name)[True]["workflow_call"]["inputs"]
    assert inputs["flagbot-repository"]["default"] == HOME_REPOSITORY
    assert inputs["flagbot-ref"]["required"] is True  # no default that could drift from `@`


def test_this_repository_calls_its_reusable_workflows_at_this_commit():
    callers = 0
    for path in sorted((GITHUB / "workflows").glob("*.yml")):
        for job in (yaml.safe_load(path.read_text()).get("jobs") or {}).values():
            if "uses" not in job:
                continue
            callers += 1
            assert job["uses"].startswith("./.github/workflows/flagbot-"), path.name
            assert job["with"]["flagbot-repository"] == "${{ github.repository }}"
            assert job["with"]["flagbot-ref"] == "${{ github.sha }}"
    assert callers >= 3  # ci (validate), rollout, sweep


def test_init_passes_the_ref_it_pins(scaffolded):
    for path in sorted((scaffolded / ".github" / "workflows").glob("*.yml")):
        [job] = yaml.safe_load(path.read_text())["jobs"].values()
        repository, ref = job["uses"].split("/.github/workflows/")[0], job["uses"].split("@")[1]
        assert (repository, ref) == (HOME_REPOSITORY, SHA)
        assert job["with"]["flagbot-repository"] == HOME_REPOSITORY
        assert job["with"]["flagbot-ref"] == SHA
