"""`flagbot validate`: exit codes, output formats, and which files it reports on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
POLICY = 'roles:\n  manager: ["@m/m"]\n  qa: ["@q/q"]\n'


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "flagbot.yml").write_text(POLICY)
    (tmp_path / ".github" / "CODEOWNERS").write_text("/flags/ @m/m @q/q\n")
    (tmp_path / "flags" / "staging").mkdir(parents=True)
    (tmp_path / "flags" / "good.yaml").write_text("name: Good\n")
    (tmp_path / "flags" / "staging" / "also_good.yml").write_text("name: Also good\n")
    (tmp_path / "flags" / "README.md").write_text("not a flag\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def add_bad_flag(repo: Path) -> None:
    (repo / "flags" / "bad.yaml").write_text("name: Bad\nrollout:\n  percentage: 120\n")


def test_a_clean_repository(repo, capsys):
    assert main(["validate"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "2 flags, 2 policy files: no problems"


def test_problems_in_text(repo, capsys):
    add_bad_flag(repo)
    assert main(["validate"]) == 1
    out, err = capsys.readouterr()
    assert out.strip() == (
        "flags/bad.yaml:3:15: rollout.percentage must be between 0 and 100, got 120"
    )
    assert err.strip() == "3 flags, 2 policy files: 1 error in 1 file"


def test_problems_as_github_annotations(repo, capsys):
    add_bad_flag(repo)
    assert main(["validate", "--format", "github"]) == 1
    out, err = capsys.readouterr()
    assert out.strip() == (
        "::error file=flags/bad.yaml,line=3,col=15::"
        "rollout.percentage must be between 0 and 100, got 120"
    )
    assert err == ""


def test_problems_as_json(repo, capsys):
    add_bad_flag(repo)
    assert main(["validate", "--format", "json"]) == 1
    out, _ = capsys.readouterr()
    (problem,) = json.loads(out)
    assert problem["path"] == "flags/bad.yaml"
    assert (problem["line"], problem["column"], problem["code"]) == (3, 15, "out-of-range")
    assert main(["validate", "--format", "json", "flags/good.yaml"]) == 0
    assert json.loads(capsys.readouterr().out or "[]") == []


def test_paths_choose_what_is_reported(repo, capsys):
    add_bad_flag(repo)
    assert main(["validate", "flags/staging"]) == 0
    assert capsys.readouterr().err.strip() == "1 flag, 0 policy files: no problems"
    assert main(["validate", "flags/good.yaml", ".github/flagbot.yml"]) == 0
    assert main(["validate", "flags/bad.yaml"]) == 1
    assert main(["validate", "flags"]) == 1


def test_paths_are_relative_to_where_you_are(repo, capsys, monkeypatch):
    add_bad_flag(repo)
    monkeypatch.chdir(repo / "flags" / "staging")
    assert main(["validate", "also_good.yml"]) == 0
    assert main(["validate", "../bad.yaml"]) == 1
    assert main(["validate"]) == 1  # no PATH: the whole repository, found by walking up
    out = capsys.readouterr().out
    assert "flags/bad.yaml:3:15:" in out


def test_cross_file_problems_show_on_the_file_asked_about(repo, capsys):
    (repo / "flags" / "good.yml").write_text("name: Twin\n")
    assert main(["validate", "flags/good.yml"]) == 1
    assert "also defined by flags/good.yaml" in capsys.readouterr().out


def test_files_flagbot_does_not_read_are_noted_not_failed(repo, capsys):
    assert main(["validate", "flags/README.md"]) == 0
    assert "not a flag file" in capsys.readouterr().err


def test_usage_errors(repo, capsys, tmp_path_factory):
    assert main(["validate", "flags/missing.yaml"]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    outside = tmp_path_factory.mktemp("elsewhere")
    assert main(["validate", str(outside)]) == 2
    assert "outside the repository" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["validate", "--format", "xml"])
    assert exit_.value.code == 2


def test_no_repository_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 2
    assert "no repository here" in capsys.readouterr().err


def test_a_repository_without_a_policy(repo, capsys):
    (repo / ".github" / "flagbot.yml").unlink()
    assert main(["validate"]) == 1
    assert ".github/flagbot.yml:1:1: .github/flagbot.yml is missing" in capsys.readouterr().out


def test_huge_files_are_not_read_whole(repo, capsys):
    (repo / "flags" / "huge.yaml").write_bytes(b"name: x\n" + b"#" * (3 * 1024 * 1024))
    assert main(["validate", "flags/huge.yaml"]) == 1
    assert "larger than 256 KiB" in capsys.readouterr().out


def test_this_repository_validates_through_the_console_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "validate"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip().endswith("2 policy files: no problems")
