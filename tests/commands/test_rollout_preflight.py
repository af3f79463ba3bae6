"""`flagbot rollout` checks its settings and GitHub before it starts: one plain line, exit 2,
no retries spent and no misleading summary."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from bot.cli import main
from bot.emulator.emulator import Emulator
from bot.rollout.transport import transport_reason
from tests.emulator_harness import REPO, TOKENS, seed_for

FLOW = "name: Flow\nrollout:\n  percentage: 5\n  stages: [5, 25, 50, 75, 100]\n  every: 60m\n"


@pytest.fixture
def checkout(tmp_path, monkeypatch) -> str:
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "FLAGBOT_")):
            monkeypatch.delenv(name)
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "flow.yaml").write_text(FLOW)
    return str(tmp_path)


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with Emulator.from_seed(seed_for()).serve_in_thread() as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def refused(capsys, monkeypatch, checkout: str, env: dict[str, str], *args: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        code = main(["rollout", "--repo-dir", checkout, *args])
    except SystemExit as exc:  # argparse's usage errors exit from parse_args
        code = exc.code
    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("flagbot rollout: ")
    return line


@pytest.mark.parametrize("repository", ["noslash", "a/b/c", "/name", "owner/"])
def test_repository_must_be_owner_slash_name(capsys, monkeypatch, checkout, repository):
    env = {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": repository}
    line = refused(capsys, monkeypatch, checkout, env)
    assert f"GITHUB_REPOSITORY={repository!r} is not owner/name" in line


@pytest.mark.parametrize("pause", ["-1", "-0.5", "nan", "soon"])
def test_write_pause_must_be_zero_or_more(capsys, monkeypatch, checkout, pause):
    env = {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": REPO}
    line = refused(capsys, monkeypatch, checkout, env, f"--write-pause={pause}")
    assert "--write-pause" in line and "0 or more" in line


@pytest.mark.parametrize(
    ("name", "value"),
    [("FLAGBOT_WRITE_PAUSE", "-1"), ("FLAGBOT_RETRIES", "-2"), ("FLAGBOT_REQUEST_PAUSE", "x")],
)
def test_numbers_from_the_environment(capsys, monkeypatch, checkout, name, value):
    env = {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": REPO, name: value}
    assert name in refused(capsys, monkeypatch, checkout, env)


def test_github_unreachable(capsys, monkeypatch, checkout):
    url = f"http://127.0.0.1:{free_port()}"
    env = {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": url}
    line = refused(capsys, monkeypatch, checkout, env)
    assert line == (
        f"flagbot rollout: GitHub unreachable at {url} (Connection refused): check GITHUB_API_URL"
    )


def test_token_refused(capsys, monkeypatch, checkout, api):
    env = {"GITHUB_TOKEN": "wrong", "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": api}
    assert "GITHUB_TOKEN: GitHub at" in refused(capsys, monkeypatch, checkout, env)


def test_repository_not_found(capsys, monkeypatch, checkout, api):
    env = {
        "GITHUB_TOKEN": TOKENS["dev"],
        "GITHUB_REPOSITORY": "acme/nothing",
        "GITHUB_API_URL": api,
    }
    line = refused(capsys, monkeypatch, checkout, env)
    assert "GITHUB_REPOSITORY='acme/nothing': GitHub at" in line
    assert "no such repository, or the token cannot see it" in line


def test_unreachable_as_a_person_sees_it(checkout):
    # The real command: no traceback, no urllib3 internals, no "0 due" summary.
    url = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FLAGBOT_"))}
    env.update(GITHUB_TOKEN="t", GITHUB_REPOSITORY=REPO, GITHUB_API_URL=url)
    out = subprocess.run(
        [sys.executable, "-m", "bot", "rollout", "--repo-dir", checkout],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.splitlines() == [
        f"flagbot rollout: GitHub unreachable at {url} (Connection refused): check GITHUB_API_URL"
    ]


def test_transport_reasons_are_plain():
    url = f"http://127.0.0.1:{free_port()}/x"
    with pytest.raises(requests.ConnectionError) as refused_exc:
        requests.get(url, timeout=5)
    assert transport_reason(refused_exc.value) == "Connection refused"
    with pytest.raises(requests.ConnectionError) as unknown:
        requests.get("http://no-such-host.invalid/", timeout=5)
    assert "not known" in transport_reason(unknown.value) or "resolution" in transport_reason(
        unknown.value
    )
