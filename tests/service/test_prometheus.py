"""`flagbot serve` as a real process against the emulator: a real Prometheus server (Debian's
`prometheus` package) scrapes it through a pull request's lifecycle and its query API then
returns the merge and delivery counters; `/readyz` follows the emulator refusing the App; the
README's sample alert rules pass `promtool check rules`.

Both binaries come from the Debian package (`.ci/run` installs it when missing); where they are
absent these tests skip and say so. The waits below poll real processes until a bound; nothing
asserts on how long anything took."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from bot.emulator.emulator import Emulator
from tests.emulator_harness import APP_ID, app_private_key
from tests.service.conftest import NEW_FLAG, REPO, ROOT, seed

README = ROOT / "README.md"
APP_KEY_LINE = app_private_key().splitlines()[1]
BOUND = 120.0  # seconds: give up waiting on a child process after this
SECRET = "s3cret"

T = TypeVar("T")


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(
            f"`{name}` not installed (Debian package prometheus; .ci/run installs it: "
            "apt-get install -y prometheus)"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, probe: Callable[[], T | None], proc: subprocess.Popen | None = None) -> T:
    """Poll `probe` until it returns something truthy, the child dies, or BOUND passes."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"{what}: the process exited ({proc.returncode}): {out[-2000:]}")
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting: {what}")


def http_json(url: str) -> Any | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.load(resp)
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return None


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


@dataclass
class Running:
    emulator: Emulator
    emulator_url: str
    base: str
    proc: subprocess.Popen
    output: list[str] = field(default_factory=list)

    def stop(self) -> list[str]:
        """Stop the service (once) and return its log lines."""
        if self.proc.returncode is None:
            self.output.extend(stop(self.proc).splitlines())
        return self.output


@pytest.fixture
def flagbot() -> Iterator[Running]:
    """`flagbot serve` as a process, JSON logs, against the emulator (webhooks included)."""
    emulator = Emulator.from_seed(seed())
    port = free_port()
    with emulator.serve_in_thread() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLAGBOT_", "GITHUB_"))}
        env.update(
            FLAGBOT_WEBHOOK_SECRET=SECRET,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_APP_PRIVATE_KEY=app_private_key(),
            GITHUB_API_URL=api,
        )  # no FLAGBOT_LOG_FORMAT: stderr is a pipe, so JSON by default
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running = Running(emulator, api, f"http://127.0.0.1:{port}", proc)
        try:
            wait_for("flagbot ready", lambda: http_json(f"{running.base}/readyz"), proc)
            emulator.add_webhook(f"{running.base}/webhook", SECRET, app_id=APP_ID)
            yield running
        finally:
            running.stop()


@pytest.fixture
def prometheus(tmp_path) -> Callable[[str], str]:
    """Start Prometheus scraping `target` (host:port) every second; returns its base URL."""
    exe = binary("prometheus")
    procs: list[subprocess.Popen] = []

    def start(target: str) -> str:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: flagbot\n"
            f"    static_configs: [{{targets: ['{target}']}}]\n"
        )
        port = free_port()
        proc = subprocess.Popen(
            [
                exe,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_for("prometheus ready", lambda: http_json(f"{url}/api/v1/status/buildinfo"), proc)
        return url

    yield start
    for proc in procs:
        stop(proc)


def query(prom: str, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
    """An instant query: the value of each series, by its labels (job and instance left out)."""
    data = http_json(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    if not data or data.get("status") != "success":
        return {}
    return {
        tuple(
            sorted(
                (k, v) for k, v in r["metric"].items() if k not in ("job", "instance", "__name__")
            )
        ): float(r["value"][1])
        for r in data["data"]["result"]
    }


def test_prometheus_scrapes_flagbot_through_a_lifecycle(flagbot, prometheus):
    prom = prometheus(flagbot.base.removeprefix("http://"))
    wait_for("a first scrape", lambda: query(prom, "up"))

    dev = flagbot.emulator.person("dev")
    flag = (ROOT / NEW_FLAG).read_text()
    n = int(dev.propose(REPO, {NEW_FLAG: flag}, branch="b", title="Create new flag")["number"])
    for reviewer in ("mgr", "qa"):
        flagbot.emulator.person(reviewer).approve(REPO, n)
    wait_for("the merge", lambda: dev.pr(REPO, n)["merged"])

    merges = wait_for(
        "the merge counter in Prometheus", lambda: query(prom, "flagbot_merges_total")
    )
    assert merges == {(("result", "merged"),): 1.0}
    deliveries = wait_for(
        "both reviews' deliveries in Prometheus",
        lambda: (
            found
            if (found := query(prom, "sum by (event) (flagbot_deliveries_total)")).get(
                (("event", "pull_request_review"),)
            )
            == 2
            else None
        ),
    )
    assert deliveries[(("event", "pull_request"),)] >= 1
    assert query(prom, "flagbot_github_api_calls_total{status='200'}")
    assert query(prom, "flagbot_reconcile_duration_seconds_count")

    # The same process logged JSON: every line parses; each delivery has one access line.
    lines = [json.loads(line) for line in flagbot.stop()]
    access = [line for line in lines if line["logger"] == "flagbot.access"]
    sent = [d for d in flagbot.emulator.webhooks.deliveries if d.status_code == 202]
    assert sorted(line["delivery"] for line in access) == sorted(d.guid for d in sent)
    reconciled = [line for line in lines if line["msg"].startswith("reconciled")]
    assert all(line["repo"] == REPO and line["pr"] == n and line["delivery"] for line in reconciled)
    text = "\n".join(json.dumps(line) for line in lines)
    assert APP_KEY_LINE not in text and SECRET not in text


def test_readyz_of_a_real_process_follows_the_emulator_refusing_the_app(flagbot):
    # The operator's view: the emulator's admin API starts refusing everything the App sends
    # (401, as GitHub does once its key is revoked); the next work fails and /readyz says so;
    # lifting the refusal makes it ready again.
    api = flagbot.emulator_url
    fault = admin(api, "POST", "/faults", {
        "kind": "status", "status": 401, "message": "Bad credentials", "times": None,
        "login": "flagbot[bot]",
    })  # fmt: skip
    dev = flagbot.emulator.person("dev")
    dev.propose(REPO, {NEW_FLAG: (ROOT / NEW_FLAG).read_text()}, branch="b", title="New flag")
    assert wait_for("/readyz 503", lambda: status_of(f"{flagbot.base}/readyz") == 503)
    body = http_json_any(f"{flagbot.base}/readyz")
    assert body["status"] == "unready" and "refused the credentials" in body["reason"]
    admin(api, "DELETE", f"/faults/{fault['id']}")
    assert wait_for("/readyz 200", lambda: status_of(f"{flagbot.base}/readyz") == 200)


def admin(api: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{api}/_emulator{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def http_json_any(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        return json.load(exc)


ALERTS = re.compile(r"```yaml\n(groups:\n.*?)```", re.DOTALL)


def test_readme_sample_alert_rules_pass_promtool(tmp_path):
    exe = binary("promtool")
    found = ALERTS.search(README.read_text())
    assert found, "README has no ```yaml block starting with `groups:` (the sample alerts)"
    rules = tmp_path / "flagbot-alerts.yml"
    rules.write_text(found.group(1))
    out = subprocess.run(
        [exe, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    names = re.findall(r"alert: (\w+)", found.group(1))
    assert {"FlagbotBacklogStuck", "FlagbotChannelFailing", "FlagbotRateLimitLow"} <= set(names)


# promtool's unit tests for the sample rules: each alert fires on the situation it names and
# stays quiet on a healthy service.
RULE_TESTS = """
rule_files: [flagbot-alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'flagbot_backlog{instance="stuck", job="flagbot"}'
        values: '3x40'
      - series: 'flagbot_reconciles_total{instance="stuck", job="flagbot", result="failed"}'
        values: '0+1x40'
      - series: 'flagbot_backlog{instance="busy", job="flagbot"}'
        values: '3x40'
      - series: 'flagbot_reconciles_total{instance="busy", job="flagbot", result="decided"}'
        values: '0+5x40'
      - series: >-
          flagbot_notices_total{instance="busy", job="flagbot", channel="releases-slack",
          outcome="failed"}
        values: '0 0 1x38'
      - series: >-
          flagbot_notices_total{instance="busy", job="flagbot", channel="audit-log",
          outcome="sent"}
        values: '0+1x40'
      - series: >-
          flagbot_github_rate_limit_remaining{instance="busy", job="flagbot", installation="7"}
        values: '400x40'
      - series: >-
          flagbot_github_rate_limit_remaining{instance="busy", job="flagbot",
          installation="app"}
        values: '4900x40'
    alert_rule_test:
      - eval_time: 30m
        alertname: FlagbotBacklogStuck
        exp_alerts:
          - exp_labels: {severity: page, instance: stuck, job: flagbot}
            exp_annotations:
              summary: "flagbot on stuck has had a backlog for 10 minutes and finishes nothing"
      - eval_time: 30m
        alertname: FlagbotChannelFailing
        exp_alerts:
          - exp_labels:
              severity: ticket
              instance: busy
              job: flagbot
              channel: releases-slack
              outcome: failed
            exp_annotations:
              summary: "flagbot notices on channel releases-slack are failing"
      - eval_time: 30m
        alertname: FlagbotRateLimitLow
        exp_alerts:
          - exp_labels: {severity: ticket, instance: busy, job: flagbot, installation: "7"}
            exp_annotations:
              summary: "flagbot has 400 GitHub API calls left for installation 7"
"""


def test_readme_sample_alerts_fire_when_they_should(tmp_path):
    exe = binary("promtool")
    found = ALERTS.search(README.read_text())
    assert found
    (tmp_path / "flagbot-alerts.yml").write_text(found.group(1))
    tests = tmp_path / "alerts-test.yml"
    tests.write_text(RULE_TESTS)
    out = subprocess.run(
        [exe, "test", "rules", str(tests)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
