"""Every command's usage and environment errors: one line on stderr, exit 2, no traceback
(the real console entry point, in a subprocess, from a directory that is no repository)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nonsense"], "flagbot: argument COMMAND: invalid choice: 'nonsense'"),
        (["validate", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["validate", "/nonexistent"], "flagbot validate: no repository here"),
        (["plan"], "flagbot plan: no flags/ folder in"),
        (["changes", "--base", "main"], "flagbot changes: not a git work tree"),
        (["rollout", "--write-pause", "-1"], "'-1' is not a number of seconds (0 or more)"),
        (["guard", "some_flag"], "flagbot guard: no flags/ folder in"),
        (["serve", "--port", "99999"], "argument --port: '99999' is not a port number"),
        (["emulator", "--seed", "/nonexistent.yaml"], "--seed /nonexistent.yaml: no such file"),
        (["emulator", "--seed", "s.yaml", "--port", "x"], "'x' is not a port number"),
    ],
)
def test_one_line_exit_2(tmp_path, args, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLAGBOT_", "GITHUB_"))}
    out = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    [line] = out.stderr.splitlines()
    assert expected in line
    assert "Traceback" not in line


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FLAGBOT_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("redeliver", "--since", "2h"), "flagbot redeliver: could not list the App's deliveries"),
        (("sweep",), "flagbot sweep: could not list the App's installations"),
    ],
)
def test_app_commands_name_a_github_they_cannot_reach_or_that_refuses_the_app(args, expected):
    """The first App call fails: one line saying what to check, exit 1, no traceback."""
    import socket

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from bot.emulator.emulator import Emulator
    from tests.emulator_harness import APP_ID, app_private_key, seed_for

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    wrong_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with Emulator.from_seed(seed_for()).serve_in_thread() as api:
        cases = [(closed, app_private_key()), (api, wrong_key)]
        for url, key in cases:
            env = {"GITHUB_APP_ID": str(APP_ID), "GITHUB_APP_PRIVATE_KEY": key}
            out = _run({**env, "GITHUB_API_URL": url}, *args)
            assert out.returncode == 1, out.stderr
            assert "Traceback" not in out.stderr, out.stderr
            assert out.stderr.splitlines()[-1].startswith(expected), out.stderr
