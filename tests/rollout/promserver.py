"""A real Prometheus server (Debian's `prometheus` binary) scraping an exporter the test
controls (`prometheus_client`), both on free loopback ports, for the guard tests.

The server scrapes every second; `Prometheus.wait_for` polls the HTTP API until the value the
test set is what a query returns, so tests never sleep a fixed time.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BINARY = shutil.which("prometheus") or (
    "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
)
SKIP_REASON = "the prometheus binary is not installed (apt-get install prometheus; .ci/run does it)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]

    def query(self, promql: str) -> dict:
        q = urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{q}", timeout=5) as resp:
            return json.load(resp)

    def wait_for(self, promql: str, ok: Callable[[list], bool], within: float = 60) -> None:
        """Poll until the query's result satisfies `ok` (bounded)."""
        deadline = time.monotonic() + within
        result: list = []
        while time.monotonic() < deadline:
            try:
                result = self.query(promql)["data"]["result"]
                if ok(result):
                    return
            except (OSError, KeyError, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"Prometheus never answered {promql!r} as wanted; last {result}")


CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: checkout
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


@contextmanager
def prometheus(workdir: Path, exporter_port: int) -> Iterator[Prometheus]:
    assert BINARY is not None
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(CONFIG.replace("{port}", str(exporter_port)))
    log = (workdir / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            BINARY,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Prometheus(f"http://127.0.0.1:{port}", proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"prometheus exited: {(workdir / 'prometheus.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("prometheus did not become ready within 60 s")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
