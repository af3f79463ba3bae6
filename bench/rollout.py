"""What does a rollout tick cost, next to merely parsing the flag files, and how many API calls?

Generates a checkout of 10,000 flag files in bench/validate.py's mix (half with a staged
plan, 100 of them due: 90 whose file records when their stage began, 10 merged by a person and
dated by the API; a quarter with targeting rules; a quarter kill switches), seeds the local
GitHub emulator with the same files, and measures in the same run:
  (a) reading the 10,000 files and loading each with PyYAML's C loader;
  (b) a rollout tick: read the checkout, decide, commit the 100 bumps through PyGithub.
Prints b/a in CPU time of this process (goal: at most 1.5; the emulator, like GitHub, works in
a process of its own, and its time is shown apart), the API calls per bump (goal: a constant,
not a function of the number of flags), and a second tick at the same moment on a fresh
checkout: nothing due, so no writes and a handful of reads. PyGithub's pauses between calls
are off here; production keeps 1 s between writes, as GitHub asks.

    python bench/rollout.py [--files N] [--due D] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.rollout.checkout import read_checkout
from bot.rollout.job import JobOptions, JobReport, run_job
from bot.rollout.remote import Connection, RemoteRepo

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
MERGED = NOW - timedelta(hours=2)  # the repository's first commit: every flag's merge
REPO = "acme/flags"
TOKEN = "bot-token"

POLICY = """\
roles:
  manager: ["@acme/eng-managers"]
  qa: ["@acme/qa"]
notify_on_complete: false
"""

PLANNED = """\
# yaml-language-server: $schema=../bot/flags/flag.schema.json
name: Flag number {i}
description: >-
  A generated boolean flag, rolled out in stages like the new checkout flow.
type: boolean
tags: [generated, team-{team}, web]
enabled: true
default: false
value: true
rollout:
  percentage: {pct}                 # share of users who get `value` now
  stages: [5, 25, 50, 75, 100]
  every: 60m
"""
RECORD = """\
  stage_started:
    percentage: {pct}
    at: {at}
"""
STRING = """\
# yaml-language-server: $schema=../../bot/flags/flag.schema.json
name: Banner {i}
description: A generated string flag with targeting rules.
type: string
tags: [generated, copy]
default: "Welcome"
value: "Welcome back"
rules:
  - name: staff
    attribute: email
    operator: ends_with
    values: ["@acme.example"]
    serve: "Hello, colleague"
rollout:
  percentage: 25
"""
SWITCH = """\
name: Kill switch {i}
tags: [generated, kill-switch]
enabled: true
"""


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(count: int, due: int) -> dict[str, str]:
    """`count` flag files in bench/validate.py's mix: half with a staged plan (`due` of them
    due at NOW, a tenth of those without a stage record; the rest waiting or complete), a
    quarter string flags with targeting rules, a quarter kill switches."""
    files = {".github/flagbot.yml": POLICY}
    planned = [i for i in range(count) if i % 4 < 2]
    stride = max(1, len(planned) // max(due, 1))
    due_ones = set(planned[::stride][:due])
    made_due = 0
    for i in range(count):
        if i % 4 == 3:
            files[f"flags/staging/banner_{i}.yaml"] = STRING.format(i=i)
            continue
        if i % 4 == 2:
            files[f"flags/switch_{i}.yaml"] = SWITCH.format(i=i)
            continue
        path = f"flags/team{i % 20}/flag_{i}.yaml" if i % 3 else f"flags/flag_{i}.yaml"
        if i in due_ones:
            pct = (5, 25, 50, 75)[made_due % 4]
            text = PLANNED.format(i=i, team=i % 7, pct=pct)
            if made_due % 10:  # recorded by an earlier bump an hour and a half ago
                text += RECORD.format(pct=pct, at=iso(NOW - timedelta(minutes=90)))
            made_due += 1
        else:
            pct = (5, 25, 50, 75, 100)[i % 5]
            text = PLANNED.format(i=i, team=i % 7, pct=pct)
            text += RECORD.format(pct=pct, at=iso(NOW - timedelta(minutes=10)))
        files[path] = text
    return files


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatorProcess:
    """`flagbot emulator` seeded with the checkout's files, in a process of its own."""

    def __init__(self, checkout: Path, workdir: Path) -> None:
        seed = {
            "clock": iso(MERGED),
            "users": [{"login": "flagbot", "token": TOKEN}],
            "orgs": [{"login": "acme", "members": ["flagbot"]}],
            "repos": [
                {
                    "full_name": REPO,
                    "default_branch": "main",
                    "from": str(checkout),
                    "collaborators": {"flagbot": "admin"},
                }
            ],
        }
        self.seed_path = workdir / "seed.yaml"  # JSON is YAML
        self.seed_path.write_text(json.dumps(seed))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EmulatorProcess:
        cmd = [sys.executable, "-m", "bot", "emulator", "--seed", str(self.seed_path)]
        self.proc = subprocess.Popen([*cmd, "--port", str(self.port)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.admin("GET", "clock")
                return self
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the emulator did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def admin(self, method: str, what: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/_emulator/{what}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def fresh_checkout(self, workdir: Path) -> Path:
        """The branch as `actions/checkout` would fetch it now: a depth-1 clone."""
        bare, clone = workdir / "export.git", workdir / "fresh"
        self.admin("POST", f"repos/{REPO}/export", {"path": str(bare)})
        subprocess.run(
            ["git", "clone", "-q", "--depth", "1", f"file://{bare}", str(clone)],
            check=True,
            capture_output=True,
        )
        return clone

    def serving_seconds(self) -> float:
        """Time the emulator spent serving the calls logged so far (handler time, per call)."""
        calls = self.admin("GET", "calls")
        assert isinstance(calls, list)
        return sum(c["duration"] for c in calls)

    def calls(self) -> Counter[str]:
        stats = self.admin("GET", "calls/stats")
        assert isinstance(stats, dict)
        return Counter({key: s["calls"] for key, s in stats.items()})


def tick(checkout: Path, url: str) -> JobReport:
    connection = Connection(REPO, TOKEN, url, write_pause=0.0, request_pause=0.0, backoff=0.0)
    remote = RemoteRepo.connect(connection, "main")
    return run_job(read_checkout(checkout), remote, JobOptions(now=NOW, job_id="bench"))


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # this process only: the job's own work, not the emulator's, not waiting


def timed(work: Callable[[], object]) -> tuple[Timing, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu), result


def describe(calls: Counter[str]) -> str:
    reads = sum(n for k, n in calls.items() if k.startswith("GET"))
    writes = sum(calls.values()) - reads
    by_route = ", ".join(f"{k}: {n}" for k, n in sorted(calls.items()))
    return f"{reads} reads, {writes} writes ({by_route or 'no calls'})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not yaml.__with_libyaml__:
        print("PyYAML was built without libyaml; the baseline would be the pure-Python loader")
        return 1
    files = generate(args.files, args.due)
    flag_count = sum(p.startswith("flags/") for p in files)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        checkout = root / "checkout"
        write(checkout, files)
        paths = sorted(checkout.joinpath("flags").rglob("*.yaml"))

        def baseline() -> None:
            for p in paths:
                yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)

        baseline()  # warm the page cache and the loader for both measurements
        read_checkout(checkout)
        loads: list[Timing] = []
        jobs: list[Timing] = []
        for run in range(args.repeat):
            loads.append(timed(baseline)[0])
            with EmulatorProcess(checkout, root) as github:
                timing, report = timed(lambda: tick(checkout, github.url))
                jobs.append(timing)
                assert isinstance(report, JobReport)
                bumped = len(report.bumped())
                if bumped != args.due or not report.ok:
                    raise SystemExit(f"expected {args.due} bumps, got {report.results[:3]}")
                first = github.calls()
                serving = github.serving_seconds()
                fresh = github.fresh_checkout(root / f"run-{run}")
                github.admin("DELETE", "calls")
                idle_timing, idle = timed(lambda: tick(fresh, github.url))  # noqa: B023
                second = github.calls()
                assert isinstance(idle, JobReport)
                if idle.bumped():
                    raise SystemExit("the second tick bumped again")

    load_cpu, job_cpu = min(t.cpu for t in loads), min(t.cpu for t in jobs)
    load_wall, job_wall = min(t.wall for t in loads), min(t.wall for t in jobs)
    ratio = job_cpu / load_cpu
    total = sum(first.values())
    print(f"{flag_count} flag files, {args.due} due; best of {args.repeat}; seconds wall / CPU")
    print(f"(a) read + yaml.load (CSafeLoader): {load_wall:6.3f} / {load_cpu:6.3f}")
    print(f"(b) rollout tick, {bumped} bumps:       {job_wall:6.3f} / {job_cpu:6.3f}")
    print(f"    the emulator, serving the calls:  {serving:6.3f} (in its own process)")
    print(f"ratio b/a, CPU time: {ratio:.2f} (goal <= 1.5); wall, GitHub's time included: "
          f"{job_wall / load_wall:.2f}")  # fmt: skip
    print(
        f"API calls: {total} for {bumped} bumps = {total / bumped:.2f} per bump; {describe(first)}"
    )
    print(
        "second tick at the same moment on a fresh checkout (nothing due): "
        f"{idle_timing.wall:.3f} / {idle_timing.cpu:.3f} s; {describe(second)}"
    )
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    os.environ.pop("GITHUB_TOKEN", None)
    sys.exit(main())
