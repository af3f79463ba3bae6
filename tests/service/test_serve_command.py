"""`flagbot serve` as a person runs it: refuses without a secret, answers /healthz, and turns
away unsigned deliveries without side effects."""

import hashlib
import hmac
import os
import socket
import subprocess
import sys
import time

import requests

from bot.emulator.emulator import Emulator
from tests.emulator_harness import APP_ID, app_private_key, seed_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refuses_to_start_without_a_secret():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLAGBOT_", "GITHUB_"))}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        env={**env, "GITHUB_TOKEN": "x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "FLAGBOT_WEBHOOK_SECRET" in out.stderr


def test_serves_healthz_and_rejects_unsigned_deliveries(tmp_path):
    emulator = Emulator.from_seed(seed_for())
    key = tmp_path / "app.pem"
    key.write_text(app_private_key())
    port = free_port()
    with emulator.serve_in_thread() as api:
        env = {
            **os.environ,
            "FLAGBOT_WEBHOOK_SECRET": "s3cret",
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_APP_PRIVATE_KEY_PATH": str(key),
            "GITHUB_API_URL": api,
            "FLAGBOT_SWEEP_INTERVAL": "0",  # no start-up sweep: rejected deliveries call nothing
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    health = requests.get(f"{base}/healthz", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
            else:
                raise AssertionError("flagbot serve did not come up")
            assert health.json() == {"status": "ok", "backlog": 0}
            # the start-up check asked GitHub who the App is, once, and nothing else
            assert [(c.method, c.route) for c in emulator.calls.calls()] == [("GET", "/app")]
            emulator.calls.reset()
            body = b'{"action": "opened", "number": 1}'
            headers = {
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": "1",
                "Content-Type": "application/json",
            }
            unsigned = requests.post(f"{base}/webhook", data=body, headers=headers, timeout=5)
            assert unsigned.status_code == 401
            sig = "sha256=" + hmac.new(b"wrong", body, hashlib.sha256).hexdigest()
            forged = requests.post(
                f"{base}/webhook",
                data=body,
                headers={**headers, "X-Hub-Signature-256": sig},
                timeout=5,
            )
            assert forged.status_code == 401
            huge = requests.post(
                f"{base}/webhook",
                data=b"{" + b" " * (6 * 2**20) + b"}",
                headers=headers,
                timeout=10,
            )
            assert huge.status_code == 413
            time.sleep(0.2)
            assert emulator.calls.calls() == []  # no side effects: not one API call
        finally:
            proc.terminate()
            proc.wait(timeout=10)
