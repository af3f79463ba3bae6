"""`flagbot init`: a flags repository that validates, pinned to a release, written once."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

import pytest

from bot import __version__
from bot.cli import main
from bot.commands import init as init_command
from bot.release import HOME_REPOSITORY, SCHEMA_FILES
from bot.scaffold.files import TEMPLATES, Options, Pin, TemplateError, render, repository_files
from bot.scaffold.plan import Step, plan

ROOT = Path(__file__).resolve().parents[2]
SHA = "89abcdef0123456789abcdef0123456789abcdef"
MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)")


def init(tmp_path: Path, *args: str) -> int:
    return main(["init", str(tmp_path), "--org", "acme", "--ref", SHA, *args])


def test_the_result_validates_and_says_what_to_do_next(tmp_path, capsys, monkeypatch):
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    for step in ("GitHub App", "FLAGBOT_APP_PRIVATE_KEY", "Protect main", "@acme/eng-managers"):
        assert step in out
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(TEMPLATES)
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 0
    assert "no problems" in capsys.readouterr().err


def test_running_it_twice_changes_nothing(tmp_path, capsys):
    assert init(tmp_path) == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert init(tmp_path) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_it_never_overwrites_a_users_file(tmp_path, capsys):
    mine = "roles: {manager: ['@me/managers'], qa: ['@me/qa']}\n"
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "flagbot.yml").write_text(mine)
    assert init(tmp_path) == 0
    assert (tmp_path / ".github" / "flagbot.yml").read_text() == mine
    assert "kept (yours)  .github/flagbot.yml" in capsys.readouterr().out
    assert (tmp_path / "flags" / "example_flag.yaml").is_file()


def test_a_file_in_the_way_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "flags").write_text("not a folder")
    assert init(tmp_path) == 2
    assert "is in the way" in capsys.readouterr().err
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["init", str(target)]) == 2


def test_workflows_and_hooks_run_the_pinned_release(tmp_path):
    assert init(tmp_path) == 0
    for name in ("flagbot-validate.yml", "flagbot-rollout.yml"):
        text = (tmp_path / ".github" / "workflows" / name).read_text()
        assert f"uses: {HOME_REPOSITORY}/.github/workflows/{name}@{SHA}\n" in text
        assert (ROOT / ".github" / "workflows" / name).is_file()  # what it calls exists here
    hooks = (tmp_path / ".pre-commit-config.yaml").read_text()
    assert f"rev: {SHA}\n" in hooks and "id: flagbot-validate" in hooks


def test_a_tag_resolved_to_its_commit_pins_the_commit_and_names_the_tag():
    files = repository_files(Options(pin=Pin(SHA, "v1.2.3")))
    workflow = files[".github/workflows/flagbot-validate.yml"]
    assert f"flagbot-validate.yml@{SHA} # v1.2.3\n" in workflow
    assert f"flagbot-ref: {SHA}\n" in workflow  # the commit the reusable workflow checks out
    assert f"rev: {SHA}  # v1.2.3" in files[".pre-commit-config.yaml"]


def test_schema_modelines_point_at_this_repositorys_schemas_at_the_release(tmp_path):
    files = repository_files(Options(pin=Pin(SHA, "v1.2.3")))
    for path, schema in ((".github/flagbot.yml", "policy"), ("flags/example_flag.yaml", "flag")):
        url = MODELINE.fullmatch(files[path].splitlines()[0])[1]
        parts = urllib.parse.urlsplit(url)
        assert parts.scheme == "https" and parts.netloc == "raw.githubusercontent.com"
        owner, name, ref, rest = parts.path.lstrip("/").split("/", 3)
        assert (f"{owner}/{name}", ref, rest) == (HOME_REPOSITORY, "v1.2.3", SCHEMA_FILES[schema])
        json.loads((ROOT / rest).read_text())  # the file the URL names is in this repository


def test_the_default_release_is_this_version(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(
        init_command, "resolve_pin", lambda ref, repo: asked.append(ref) or (SHA, ref)
    )
    assert main(["init", str(tmp_path)]) == 0
    assert asked == [f"v{__version__}"]
    text = (tmp_path / ".github" / "workflows" / "flagbot-validate.yml").read_text()
    assert f"@{SHA} # v{__version__}\n" in text
    assert text.rstrip().endswith(f"flagbot-ref: {SHA}")


def test_without_network_a_tag_stays_a_tag_and_the_next_steps_say_so(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(init_command, "resolve_pin", lambda ref, repo: (None, ref))
    assert main(["init", str(tmp_path), "--ref", "v9.9.9"]) == 0
    out = capsys.readouterr().out
    assert "v9.9.9 could not be resolved to a commit" in out
    assert "replace your-org" in out
    text = (tmp_path / ".github" / "workflows" / "flagbot-rollout.yml").read_text()
    assert "flagbot-rollout.yml@v9.9.9\n" in text
    assert "flagbot-ref: v9.9.9\n" in text


def test_a_commit_sha_is_used_as_given_without_asking_the_network():
    assert init_command.resolve_pin(SHA, "nobody/nothing") == (SHA, SHA)


def test_plan_creates_missing_keeps_different_and_skips_identical():
    files = {"a": "same\n", "b": "new\n", "c": "ours\n"}
    existing = {"a": b"same\n", "b": None, "c": b"theirs\n"}
    assert plan(files, existing) == [
        Step("a", "unchanged"),
        Step("b", "create"),
        Step("c", "kept"),
    ]


def test_rendering_refuses_unknown_placeholders():
    assert render("x <<org>> y", {"org": "acme"}) == "x acme y"
    with pytest.raises(TemplateError, match="<<nope>>"):
        render("<<nope>>", {})
    for content in repository_files(Options()).values():
        assert "<<" not in content


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--org", "my org"], "--org 'my org'"),
        (["--org=-acme"], "--org '-acme'"),
        (["--ref", "v1: beta"], "--ref 'v1: beta'"),
        (["--flagbot-repo", "flagbot"], "--flagbot-repo 'flagbot'"),
    ],
)
def test_names_that_would_break_the_written_files_are_usage_errors(tmp_path, capsys, args, said):
    """An organisation, release or repository name the files cannot hold (CODEOWNERS owners,
    YAML `uses:` lines) is refused before anything is written, not written broken."""
    target = tmp_path / "repo"
    base = ["init", str(target), "--org", "acme", "--ref", SHA]
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flagbot init: ") and said in err
    assert not target.exists()
