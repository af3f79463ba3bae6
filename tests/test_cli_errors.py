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
