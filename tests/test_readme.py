"""Every example in the README works as written.

- each `flagbot …` command line parses with flagbot's own parser, each `make` target and
  `pip install` extra exists, and the install URL is the release `flagbot init` pins;
- each YAML example is what it claims: a workflow (SchemaStore's schema), a pre-commit
  config (a hook this repository offers), a policy or a flag fragment (flagbot loads it), an
  emulator seed (the emulator loads it);
- the examples whose output the README shows print exactly that (`flagbot validate`, `flagbot
  plan`, `flagbot --version`), and the adoption example (`flagbot init`, then `validate`) passes.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser, main
from bot.commands import init as init_command
from bot.emulator.emulator import Emulator
from bot.emulator.seeds import app_private_key
from bot.flags.load import load_flag
from bot.policy.config import load_policy
from bot.release import HOME_REPOSITORY, RELEASE_TAG
from tests.rollout.gitrepo import commit_files

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)
# Commands the README shows that run outside flagbot (on GitHub, or in a shell setup step).
ELSEWHERE = {"export", "curl", "gh", "git", "cd", "JWT"}


def blocks(lang: str | None = None) -> list[tuple[int, str, str]]:
    """(line, language, text) of each fenced block, indentation removed."""
    found = []
    for m in FENCE.finditer(README):
        text = "".join(line[len(m[1]) :] for line in m[3].splitlines(keepends=True))
        if lang is None or m[2] == lang:
            found.append((README[: m.start()].count("\n") + 1, m[2], text))
    return found


def shell_commands() -> list[tuple[int, str]]:
    """(line, command) for each command of each `sh` block, comments dropped."""
    commands = []
    for line, _, text in blocks("sh"):
        for i, raw in enumerate(text.splitlines()):
            words = shlex.split(raw, comments=True)
            command: list[str] = []
            for word in [*words, "&&"]:
                if word == "&&":
                    if command:
                        commands.append((line + 1 + i, shlex.join(command)))
                    command = []
                else:
                    command.append(word)
    return commands


def test_the_readme_has_the_examples_this_test_checks():
    assert len(shell_commands()) >= 15
    assert len(blocks("yaml")) >= 5


@pytest.mark.parametrize("line,command", shell_commands(), ids=lambda v: str(v)[:60])
def test_every_command_exists_as_written(line, command):
    words = shlex.split(command)
    program = words[0].split("=")[0]
    if program == "flagbot":
        try:
            build_parser().parse_args(words[1:])
        except SystemExit as exc:  # --version and --help exit 0 after printing
            assert exc.code == 0, f"README.md:{line}: {command}"
    elif program == "make":
        targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M)
        assert set(words[1:]) <= set(targets), f"README.md:{line}: {command}"
    elif program == "pip":
        [spec] = [w for w in words[2:] if "@" in w]
        name, url = (part.strip() for part in spec.split("@", 1))
        extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        for extra in re.findall(r"\[(\w+)\]", name):
            assert extra in extras["optional-dependencies"], f"README.md:{line}"
        assert url == f"git+https://github.com/{HOME_REPOSITORY}@{RELEASE_TAG}"
    else:
        assert program in ELSEWHERE, f"README.md:{line}: {command}: check it here"


def test_flagbot_version_prints_this_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"flagbot {RELEASE_TAG[1:]}\n"
    assert f"@{RELEASE_TAG}" in README


# -- YAML examples ----------------------------------------------------------------------------


def yaml_blocks(kind: str) -> list[tuple[int, str]]:
    def is_kind(text: str) -> bool:
        data = yaml.safe_load(text)
        keys = set(data) if isinstance(data, dict) else set()
        return {
            "workflow": "jobs" in keys,
            "pre-commit": keys == {"repos"} and "hooks" in text,
            "policy": "roles" in keys,
            "flag": keys == {"rollout"},
            "seed": "users" in keys and "repos" in keys,
            # Prometheus alert rules: checked by promtool in tests/service/test_prometheus.py
            "alert-rules": keys == {"groups"},
        }[kind]

    return [(line, text) for line, _, text in blocks("yaml") if is_kind(text)]


def test_every_yaml_example_is_one_of_the_kinds_checked_here():
    kinds = ("workflow", "pre-commit", "policy", "flag", "seed", "alert-rules")
    checked = {line for kind in kinds for line, _ in yaml_blocks(kind)}
    assert {line for line, _, _ in blocks("yaml")} == checked
    assert all(yaml_blocks(kind) for kind in kinds)


@pytest.mark.parametrize("line,text", yaml_blocks("workflow"), ids=lambda v: str(v)[:20])
def test_workflow_examples_meet_schemastore_schema(line, text, tmp_path):
    tool = Path(sys.executable).with_name("check-jsonschema")
    if not tool.exists():
        pytest.skip("check-jsonschema is not installed (the test extra installs it)")
    (tmp_path / "example.yml").write_text(text)
    args = [str(tool), "--builtin-schema", "vendor.github-workflows", str(tmp_path / "example.yml")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"README.md:{line}: {done.stdout}"
    uses = re.findall(r"uses: (\S+)", text)
    assert any(u.startswith(f"{HOME_REPOSITORY}/.github/actions/flagbot@") for u in uses)
    assert (ROOT / ".github" / "actions" / "flagbot" / "action.yml").is_file()


@pytest.mark.parametrize("line,text", yaml_blocks("pre-commit"), ids=lambda v: str(v)[:20])
def test_pre_commit_examples_name_this_repositorys_hook(line, text):
    [repo] = yaml.safe_load(text)["repos"]
    assert repo["repo"] == f"https://github.com/{HOME_REPOSITORY}"
    assert repo["rev"] == RELEASE_TAG
    offered = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {hook["id"] for hook in repo["hooks"]} <= offered


@pytest.mark.parametrize("line,text", yaml_blocks("policy"), ids=lambda v: str(v)[:20])
def test_policy_examples_load(line, text):
    policy, problems = load_policy(text.encode())
    assert problems == [] and not policy.is_null, f"README.md:{line}: {problems}"


@pytest.mark.parametrize("line,text", yaml_blocks("flag"), ids=lambda v: str(v)[:20])
def test_rollout_fragments_load_in_a_flag_or_as_policy_defaults(line, text):
    """A `rollout:` block is a flag's (with `percentage`) or flagbot.yml's defaults."""
    data = yaml.safe_load(text)["rollout"]
    if "percentage" in data:
        flag, problems = load_flag(f"name: Example\n{text}".encode(), "flags/example.yaml")
        assert problems == [] and flag is not None, f"README.md:{line}: {problems}"
    else:
        roles = 'roles: {manager: ["@acme/managers"], qa: ["@acme/qa"]}\n'
        policy, problems = load_policy(f"{roles}{text}".encode())
        assert problems == [] and not policy.is_null, f"README.md:{line}: {problems}"


@pytest.mark.parametrize("line,text", yaml_blocks("seed"), ids=lambda v: str(v)[:20])
def test_the_seed_file_example_loads_as_written(line, text, tmp_path):
    (tmp_path / "seed.yaml").write_text(text)
    (tmp_path / "app.pem").write_text(app_private_key())  # the key file the example names
    (tmp_path / "flags").mkdir()  # `from: .`: the seed file's folder is the first commit
    (tmp_path / "flags" / "a.yaml").write_text("name: A\n")
    emulator = Emulator.from_seed(str(tmp_path / "seed.yaml"))
    repo = yaml.safe_load(text)["repos"][0]["full_name"]
    with emulator.lock:
        git = emulator.repo(repo).git
        assert "flags/a.yaml" in git.flat(git.branch("main"))


# -- examples with their output -----------------------------------------------------------------


def shown_output(command: str) -> str:
    """The block that starts `$ <command>`, without that line."""
    for _, _, text in blocks(""):
        first, _, rest = text.partition("\n")
        if first == f"$ {command}":
            return rest
    raise AssertionError(f"the README shows no output of `{command}`")


def test_flagbot_validate_prints_what_the_readme_shows(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "flags", tmp_path / "flags")
    shutil.copytree(ROOT / ".github", tmp_path / ".github", ignore=shutil.ignore_patterns("*.md"))
    flag = tmp_path / "flags" / "new_checkout_flow.yaml"
    text = flag.read_text()
    flag.write_text(re.sub(r"percentage: 5 ", "percentage: 120", text, count=1))
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 1
    out, err = capsys.readouterr()
    assert out + err == shown_output("flagbot validate")


def test_flagbot_plan_prints_what_the_readme_shows(tmp_path, monkeypatch, capsys):
    """The repository as the README describes it: search_ranking_v2 merged at 50 % at 08:52,
    new_checkout_flow (with a `check:` guard) bumped to 25 % by the 10:07 run."""
    ranking = "flags/staging/search_ranking_v2.yaml"
    flow = "flags/new_checkout_flow.yaml"
    policy = ".github/flagbot.yml"
    at = datetime(2026, 11, 27, 8, 52, tzinfo=UTC)
    files = {p: (ROOT / p).read_text() for p in (ranking, policy)}
    commit_files(tmp_path, files, at)
    bumped = re.sub(r"percentage: 5 ( *)#", r"percentage: 25\1#", (ROOT / flow).read_text())
    bumped += "  stage_started:\n    percentage: 25\n    at: 2026-11-27T10:07:00Z\n"
    bumped += '  guard:\n    checks:\n      - check: "synthetics / checkout"\n'
    commit_files(tmp_path, {flow: bumped}, datetime(2026, 11, 27, 10, 7, tzinfo=UTC))
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "--now", "2026-11-27T10:30:00Z"]) == 0
    assert capsys.readouterr().out == shown_output("flagbot plan --now 2026-11-27T10:30:00Z")


def test_the_adoption_example_runs(tmp_path, monkeypatch, capsys):
    [(_, init_line), (_, validate_line)] = [
        (line, c) for line, c in shell_commands() if c.startswith(("flagbot init", "flagbot val"))
    ][:2]
    monkeypatch.setattr(init_command, "resolve_pin", lambda ref, repo: ("0" * 40, ref))
    monkeypatch.chdir(tmp_path)
    assert main(shlex.split(init_line)[1:]) == 0
    monkeypatch.chdir(tmp_path / shlex.split(init_line)[2])
    assert main(shlex.split(validate_line)[1:]) == 0
    assert "no problems" in capsys.readouterr().err


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    return {github_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("document", ["README.md", ".github/CONTRIBUTING.md"])
def test_links_between_the_documents_resolve(document):
    source = ROOT / document
    for target, anchor in re.findall(r"\]\(([^)#\s:]*)(?:#([^)\s]+))?\)", source.read_text()):
        path = (source.parent / target).resolve() if target else source
        assert path.exists(), f"{document}: link to {target}"
        if anchor:
            assert anchor in anchors(path), f"{document}: no heading #{anchor} in {path.name}"


def test_the_demo_shows_what_the_readme_shows(capsys, monkeypatch):
    """The README's excerpt of step 6, line for line in the demo's output; commit ids aside
    (any change to this repository's example files changes them)."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["demo", "--no-color"]) == 0
    shown = next(t for _, lang, t in blocks("") if t.startswith("── 6 "))
    sha = re.compile(r"\b[0-9a-f]{7}\b")
    played = [sha.sub("SHA", line) for line in capsys.readouterr().out.splitlines()]
    start = played.index(sha.sub("SHA", shown.splitlines()[0]))
    expected = [sha.sub("SHA", line) for line in shown.splitlines()]
    assert played[start : start + len(expected)] == expected


def test_flagbot_changes_prints_what_the_readme_shows(tmp_path, monkeypatch, capsys):
    """A branch of this repository's flags that ramps new_checkout_flow to 25 %, by Dana Dev."""
    from tests.commands.test_changes import CHECKOUT, SEEDED, git, init, seeded

    repo = tmp_path / "flags-repo"
    init(repo, {p: seeded(p) for p in SEEDED})
    git(repo, "config", "user.name", "Dana Dev")  # who `changes` says requests it
    git(repo, "checkout", "-q", "-b", "ramp")
    (repo / CHECKOUT).write_text(seeded(CHECKOUT).replace("percentage: 5 ", "percentage: 25"))
    git(repo, "commit", "-qam", "Ramp checkout to 25%")
    monkeypatch.chdir(repo)
    assert main(["changes", "--base", "main"]) == 0
    shown = next(t for _, lang, t in blocks("") if t.startswith("main...HEAD: "))
    sha = re.compile(r"\b[0-9a-f]{7}\b")
    assert sha.sub("SHA", capsys.readouterr().out) == sha.sub("SHA", shown)
