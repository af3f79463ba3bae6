"""Seeds (YAML files, directories, errors with file:line:column) and `flagbot emulator`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.emulator import Emulator, SeedError
from bot.emulator.git import object_id
from tests.emulator_harness import app_private_key

ISSUE_SEED = """\
users: [{login: dev, token: dev-token}, {login: mgr, token: mgr-token}, {login: qa, token: qa-token}, {login: flagbot, token: bot-token}]
orgs: [{login: acme, teams: [{slug: eng-managers, members: [mgr]}, {slug: qa, members: [qa]}]}]
repos: [{full_name: acme/flags, default_branch: main, from: ., collaborators: {dev: write, mgr: write, qa: write, flagbot: admin}}]
webhooks: [{url: "http://127.0.0.1:8080/webhook", secret: s3cret}]
"""  # noqa: E501  (the seed exactly as the issue gives it)


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_issue_seed_loads_a_directory_as_the_first_commit(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write_tree(
        tmp_path,
        {
            ".gitignore": "secret.txt\n",
            "secret.txt": "no",
            "flags/a.yaml": "name: a\n",
            "seed.yaml": ISSUE_SEED,
        },
    )
    emulator = Emulator.from_seed(tmp_path / "seed.yaml")
    repo = emulator.repo("acme/flags")
    tip = repo.git.branch("main")
    assert sorted(repo.git.flat(tip)) == [".gitignore", "flags/a.yaml", "seed.yaml"]
    assert repo.git.entry(tip, "flags/a.yaml").sha == object_id("blob", b"name: a\n")
    assert emulator.state.repos["acme/flags"].collaborators["flagbot"] == "admin"
    assert emulator.state.orgs["acme"].team_membership("qa", "qa") == ("member", "active")
    assert [h.url for h in emulator.state.hooks.values()] == ["http://127.0.0.1:8080/webhook"]


def test_seed_extras_apps_parents_pending_private_and_files(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(app_private_key())
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        """
clock: "2030-05-01T12:00:00Z"
users: [{login: mgr, token: t1}, {login: lead, token: t2}, {login: newbie, token: t3}]
orgs:
  - login: acme
    teams:
      - {slug: leads, maintainers: [lead]}
      - {slug: managers, members: [mgr], pending: [newbie], parent: leads}
apps:
  - id: 77
    slug: flagbot
    private_key_path: app.pem
    installations: [{id: 88, account: acme, repositories: [acme/flags]}]
repos:
  - full_name: acme/flags
    private: true
    files: {"flags/a.yaml": "name: a\\n"}
    initial_commit: {message: "Seed", date: "2030-01-01T00:00:00Z"}
"""
    )
    emulator = Emulator.from_seed(seed)
    org = emulator.state.orgs["acme"]
    assert org.team_membership("leads", "mgr") == ("member", "active")
    assert org.team_membership("managers", "newbie") == ("member", "pending")
    assert emulator.state.installations[88].covers(emulator.repo("acme/flags"))
    assert emulator.private_keys[77] == app_private_key()
    assert emulator.clock.now().isoformat() == "2030-05-01T12:00:00+00:00"
    commit = emulator.repo("acme/flags").git.store.commit(
        emulator.repo("acme/flags").git.branch("main")
    )
    assert commit.message == "Seed" and commit.author.iso_utc() == "2030-01-01T00:00:00Z"
    assert emulator.request("GET", "/repos/acme/flags").status == 404  # private


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            "users: [{login: a}]\nrepos: [{full_name: nobody/r}]\n",
            ":2:21:",
            "unknown owner 'nobody'",
        ),
        ("users:\n  - {login: a}\n  - {login: a}\n", ":3:13:", "duplicate user 'a'"),
        (
            "orgs:\n  - login: o\n    teams: [{slug: t, members: [ghost]}]\n",
            ":3:33:",
            "unknown user 'ghost'",
        ),
        (
            "orgs:\n  - login: o\n    teams: [{slug: t, parent: nope}]\n",
            ":3:31:",
            "unknown team 'nope'",
        ),
        (
            "users: [{login: a}]\nrepos: [{full_name: a/r, collaborators: {a: owner}}]\n",
            ":2:45:",
            "role must be one of",
        ),
        ("apps: [{id: 1, slug: s}]\n", ":1:8:", "give private_key_path, private_key or public_key"),
        (
            "users: [{login: a}]\nrepos: [{full_name: a/r, from: missing-dir}]\n",
            ":2:32:",
            "is not a directory",
        ),
        ("bogus: 1\n", ":1:8:", "unknown key"),
        ("users: [\n", ":2:1:", "not valid YAML"),
    ],
)
def test_seed_errors_name_file_line_column(
    tmp_path: Path, text: str, where: str, what: str
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(text)
    with pytest.raises(SeedError) as e:
        Emulator.from_seed(seed)
    assert str(e.value).startswith(f"{seed}{where}"), str(e.value)
    assert what in str(e.value)


def test_cli_serves_until_terminated(tmp_path: Path) -> None:
    write_tree(tmp_path, {"flags/a.yaml": "name: a\n", "seed.yaml": ISSUE_SEED})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "emulator",
            "--port",
            "0",
            "--seed",
            str(tmp_path / "seed.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("flagbot emulator listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        req = urllib.request.Request(
            f"{url}/repos/acme/flags/contents/flags/a.yaml",
            headers={"Authorization": "token dev-token"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.load(resp)["sha"] == object_id("blob", b"name: a\n")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "stopped" in out


def test_cli_reports_a_bad_seed(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("users: [{login: a}]\nrepos: [{full_name: nobody/r}]\n")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "emulator", "--seed", str(seed)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert f"{seed}:2:21: repos[0].full_name: unknown owner 'nobody'" in done.stderr
