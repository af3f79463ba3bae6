"""`flagbot serve` refuses a configuration that cannot work: one line naming what to change,
exit 2, no traceback, before it listens. Each case runs the real command in a subprocess
(the timeout only bounds a hung child; nothing here asserts on time)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bot.emulator.emulator import Emulator
from tests.emulator_harness import APP_ID, TOKENS, app_private_key, seed_for

HARNESS_TIMEOUT = 60  # seconds: a child still running by then has hung


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    emulator = Emulator.from_seed(seed_for())
    with emulator.serve_in_thread() as url:
        yield url


def serve(env: dict[str, str], *args: str) -> tuple[int, list[str]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FLAGBOT_", "GITHUB_"))}
    if "--port" not in args:  # never the default 8080: something else may hold it
        args = (*args, "--port", str(free_port()))
    out = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", *args],
        env={**base, "FLAGBOT_WEBHOOK_SECRET": "s3cret", **env},
        capture_output=True,
        text=True,
        timeout=HARNESS_TIMEOUT,
    )
    return out.returncode, (out.stdout + out.stderr).splitlines()


def refused(env: dict[str, str], *args: str) -> str:
    """The one line `serve` printed when it refused to start."""
    code, lines = serve(env, *args)
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert lines[0].startswith("flagbot serve: ")
    return lines[0]


def app_env(api: str, key: str | None = None) -> dict[str, str]:
    return {
        "GITHUB_APP_ID": str(APP_ID),
        "GITHUB_APP_PRIVATE_KEY": key if key is not None else app_private_key(),
        "GITHUB_API_URL": api,
    }


def test_app_id_not_a_number(api):
    line = refused({**app_env(api), "GITHUB_APP_ID": "abc"})
    assert "GITHUB_APP_ID='abc' is not a number" in line


def test_private_key_garbage(api):
    line = refused(app_env(api, "garbage"))
    assert "GITHUB_APP_PRIVATE_KEY is not a PEM private key" in line


def test_private_key_file_garbage_names_the_path_variable(api, tmp_path):
    path = tmp_path / "app.pem"
    path.write_text("not a key")
    env = {**app_env(api), "GITHUB_APP_PRIVATE_KEY": "", "GITHUB_APP_PRIVATE_KEY_PATH": str(path)}
    assert "GITHUB_APP_PRIVATE_KEY_PATH is not a PEM private key" in refused(env)


def test_private_key_file_missing(api, tmp_path):
    env = {**app_env(api), "GITHUB_APP_PRIVATE_KEY": ""}
    env["GITHUB_APP_PRIVATE_KEY_PATH"] = str(tmp_path / "absent.pem")
    assert "GITHUB_APP_PRIVATE_KEY_PATH=" in refused(env)


def test_a_key_that_is_not_rsa(api):
    line = refused(app_env(api, pem(ec.generate_private_key(ec.SECP256R1()))))
    assert "is not an RSA key" in line


def test_a_well_formed_key_github_does_not_know(api):
    other = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    line = refused(app_env(api, other))
    assert "GITHUB_APP_ID / GITHUB_APP_PRIVATE_KEY: GitHub refused the credentials" in line
    assert "GET /app answered 401" in line


def test_a_token_github_refuses(api):
    line = refused({"GITHUB_TOKEN": "ghp_" + "x" * 36, "GITHUB_API_URL": api})
    assert line.startswith("flagbot serve: GITHUB_TOKEN: GitHub refused the credentials")
    assert "x" * 36 not in line  # the token itself is never printed


def test_api_unreachable():
    url = f"http://127.0.0.1:{free_port()}"
    line = refused({**app_env(url)})
    assert f"GITHUB_API_URL: GitHub unreachable at {url} (Connection refused)" in line


def test_api_url_not_a_url():
    assert "GITHUB_API_URL='api.github.com' is not an http(s) URL" in refused(
        {"GITHUB_TOKEN": "t", "GITHUB_API_URL": "api.github.com"}
    )


def test_api_url_not_the_api_root(api):
    line = refused(app_env(api + "/not/the/api"))
    assert "does not look like GitHub's REST API" in line


def test_busy_port(api):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = refused(app_env(api), "--port", str(port))
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use)" in line


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_bad_port(api, port):
    line = refused(app_env(api), "--port", port)
    assert f"argument --port: '{port}' is not a port number (0-65535)" in line


def test_unknown_host(api):
    line = refused(app_env(api), "--host", "no-such-host.invalid")
    assert "--host 'no-such-host.invalid' is not an address of this machine" in line


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FLAGBOT_WORKERS", "0", "FLAGBOT_WORKERS='0' is not a whole number above 0"),
        ("FLAGBOT_WORKERS", "many", "FLAGBOT_WORKERS='many' is not a whole number above 0"),
        ("FLAGBOT_MAX_BODY", "-5", "FLAGBOT_MAX_BODY='-5' is not a whole number above 0"),
        ("FLAGBOT_READY_BACKLOG", "x", "FLAGBOT_READY_BACKLOG='x' is not a whole number"),
        ("FLAGBOT_LOG_FORMAT", "xml", "FLAGBOT_LOG_FORMAT='xml' is not a log format"),
        ("FLAGBOT_WEBHOOK_SECRET", "", "FLAGBOT_WEBHOOK_SECRET is not set"),
    ],
)
def test_bad_setting(api, variable, value, expected):
    assert expected in refused({**app_env(api), variable: value})


def test_a_good_token_passes_the_checks(api):
    # the same checks let a valid configuration through: it listens (and is stopped here)
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FLAGBOT_", "GITHUB_"))}
    env = {
        **base,
        "FLAGBOT_WEBHOOK_SECRET": "s3cret",
        "GITHUB_TOKEN": next(iter(TOKENS.values())),
        "GITHUB_API_URL": api,
        "FLAGBOT_LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline() for _ in range(3)]  # start, sweep, listening: any order
        assert any(f"listening on http://127.0.0.1:{port}" in line for line in lines), lines
    finally:
        proc.terminate()
        proc.wait(timeout=HARNESS_TIMEOUT)
