"""What does a rollout tick cost, next to merely parsing the flag files, and how many API calls?

Generates a checkout of 10,000 flag files in bench/validate.py's mix (half with a staged
plan, 100 of them due: 90 whose file records when their stage began, 10 merged by a person and
dated by the API; a quarter with targeting rules; a quarter kill switches), seeds the local
GitHub emulator with the same files, and measures in each round, back to back:
  (a) reading the 10,000 files and loading each with PyYAML's C loader;
  (b) a rollout tick: read the checkout, decide, commit the 100 bumps through PyGithub.
Judged on wall time, b/a (goal: at most 1.5): the job waits for GitHub, here the emulator in a
process of its own doing real git work per commit (blobs, trees, commits, refs in a
10,000-file repository), so its serving time counts. The job's own CPU time is shown too, and
where (b)'s time goes: reading the checkout, and per API call the round trip as PyGithub sees
it next to the emulator's own handling. Also the API calls per bump (goal: at most 2, a
constant, whatever the number of flags), and a second tick at the same moment on a fresh
checkout: nothing due, so no writes and a handful of reads at most. PyGithub's pauses between
calls are off here; production keeps 1 s between writes, as GitHub asks. Best of `--repeat`
rounds; the machine's load average is printed, since other work on it slows both sides.

Then writes per run, before and after the one-commit run, as production sees it: every call
100 ms late (the emulator's latency fault) and PyGithub's production pacing (1 s between
writes, 0.25 s between calls). Before: one contents PUT per due flag (how the job wrote until
the one-commit run; kept here as the baseline). After: the job as it is. Both on a fresh
emulator seeded with the same `--write-files` files, in paired rounds (the order alternates),
median and spread of `--write-rounds`. Goals: the job's writes per run are the same for 10
and for `--due` due flags (constant); its wall time at most a tenth of the baseline's.

    python bench/rollout.py [--files N] [--due D] [--repeat R] [--write-rounds K] [--no-writes]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
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

from bot.rollout.checkout import blob_sha, read_checkout
from bot.rollout.edit import bump_text
from bot.rollout.job import JobOptions, JobReport, commit_message, remote_start_times, run_job
from bot.rollout.remote import ACTIONS_BOT, Connection, RemoteRepo
from bot.rollout.schedule import due_bumps, needs_start_time

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

    def admin(self, method: str, what: str, body: object = None, timeout: float = 5) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/_emulator/{what}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def fresh_checkout(self, workdir: Path) -> Path:
        """The branch as `actions/checkout` would fetch it now: a depth-1 clone."""
        bare, clone = workdir / "export.git", workdir / "fresh"
        self.admin("POST", f"repos/{REPO}/export", {"path": str(bare)}, timeout=120)
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


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # this process only: the job's own work, not the emulator's, not waiting


def timed(work: Callable[[], object]) -> tuple[Timing, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu), result


@dataclass(frozen=True)
class Tick:
    report: JobReport
    reading: float  # wall seconds spent reading the checkout; the rest is deciding and calls


def tick(checkout: Path, url: str) -> Tick:
    start = time.perf_counter()
    flags = read_checkout(checkout)
    reading = time.perf_counter() - start
    connection = Connection(REPO, TOKEN, url, write_pause=0.0, request_pause=0.0, backoff=0.0)
    remote = RemoteRepo.connect(connection, "main")
    return Tick(run_job(flags, remote, JobOptions(now=NOW, job_id="bench")), reading)


def describe(calls: Counter[str]) -> str:
    reads = sum(n for k, n in calls.items() if k.startswith("GET"))
    writes = sum(calls.values()) - reads
    by_route = ", ".join(f"{k}: {n}" for k, n in sorted(calls.items()))
    return f"{reads} reads, {writes} writes ({by_route or 'no calls'})"


LATENCY = 0.1  # seconds added to every call: GitHub's round trip, roughly


def paced(url: str) -> Connection:
    """Production pacing: PyGithub's defaults as the job sets them."""
    return Connection(REPO, TOKEN, url, write_pause=1.0, request_pause=0.25, backoff=0.0)


def per_flag_commits(checkout: Path, url: str) -> int:
    """The baseline: how the job wrote before, one contents PUT per due flag. Returns bumps."""
    flags = read_checkout(checkout)
    remote = RemoteRepo.connect(paced(url), "main")
    asking = [f.path for f in flags.planned if needs_start_time(f)]
    started = remote_start_times(remote)(asking)
    bumps = due_bumps(flags.planned, started, NOW)
    for bump in bumps:
        data = flags.texts[bump.path]
        new = bump_text(data.decode(), bump.to_percentage, NOW).encode()
        message = commit_message(bump, "production", "before")
        remote.write(bump.path, new, blob_sha(data), message, ACTIONS_BOT, NOW)
    return len(bumps)


def one_commit_run(checkout: Path, url: str) -> int:
    """The job as it is. Returns bumps."""
    remote = RemoteRepo.connect(paced(url), "main")
    report = run_job(read_checkout(checkout), remote, JobOptions(now=NOW, job_id="after"))
    if not report.ok:
        raise SystemExit(f"the job failed: {report.problems or report.results[:3]}")
    return len(report.bumped())


@dataclass(frozen=True)
class WriteRun:
    wall: float
    writes: int
    bumps: int


def measure_writes(root: Path, files: dict[str, str], how: Callable[[Path, str], int]) -> WriteRun:
    checkout = root / "checkout"
    if not checkout.exists():
        write(checkout, files)
    with EmulatorProcess(checkout, root) as github:
        github.admin("POST", "faults", {"kind": "latency", "seconds": LATENCY, "times": None})
        # GitHub's clock flows (from the seed's time): its secondary limits on writes are
        # counted per minute of it, and a frozen clock would never let a minute pass.
        ahead = (MERGED - datetime.now(UTC)).total_seconds()
        github.admin("PUT", "clock", {"offset_seconds": ahead})
        start = time.perf_counter()
        bumps = how(checkout, github.url)
        wall = time.perf_counter() - start
        calls = github.calls()
    writes = sum(n for k, n in calls.items() if not k.startswith("GET"))
    return WriteRun(wall, writes, bumps)


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} s (spread {min(values):.1f}–{max(values):.1f})"


def writes_section(files_count: int, due: int, rounds: int) -> bool:
    """Before/after writes per run; True when every goal is met."""
    before: list[WriteRun] = []
    after: list[WriteRun] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = generate(files_count, due)
        for i in range(rounds):
            order = [(before, per_flag_commits), (after, one_commit_run)]
            for runs, how in order if i % 2 == 0 else order[::-1]:
                work = root / f"{how.__name__}-{i}"
                work.mkdir()
                runs.append(measure_writes(work, files, how))
        small = root / "small"
        small.mkdir()
        few = measure_writes(small, generate(files_count, 10), one_commit_run)
    if any(r.bumps != due for r in before + after) or few.bumps != 10:
        raise SystemExit("a run did not bump every due flag")
    b_wall, a_wall = [r.wall for r in before], [r.wall for r in after]
    ratio = statistics.median(a_wall) / statistics.median(b_wall)
    constant = len({r.writes for r in after} | {few.writes}) == 1
    print(
        f"\nwrites per run at {LATENCY * 1e3:.0f} ms per call with production pacing (1 s between "
        f"writes), {files_count} flag files, {rounds} paired rounds:"
    )
    print(
        f"  before (one commit per flag): {before[0].writes} writes for {due} due; {spread(b_wall)}"
    )
    print(
        f"  after (one commit per run):   {after[0].writes} writes for {due} due; {spread(a_wall)}"
    )
    print(
        f"  after, {few.bumps} due: {few.writes} writes; goal constant: "
        f"{'meets' if constant else 'MISSES'}"
    )
    print(
        f"  wall after/before: {ratio:.3f} (goal <= 0.1: {'meets' if ratio <= 0.1 else 'MISSES'})"
    )
    return constant and ratio <= 0.1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-files", type=int, default=1_000)
    parser.add_argument("--write-rounds", type=int, default=3)
    parser.add_argument("--no-writes", action="store_true", help="skip the before/after section")
    args = parser.parse_args(argv)
    if not yaml.__with_libyaml__:
        print("PyYAML was built without libyaml; the baseline would be the pure-Python loader")
        return 1
    files = generate(args.files, args.due)
    flag_count = sum(p.startswith("flags/") for p in files)
    load_before = os.getloadavg()[0]

    @dataclass
    class Round:
        load: Timing
        job: Timing
        tick: Tick
        calls: Counter[str]
        serving: float
        idle: Timing
        idle_calls: Counter[str]

    rounds: list[Round] = []
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
        for run in range(args.repeat):
            with EmulatorProcess(checkout, root) as github:
                load = timed(baseline)[0]  # back to back with (b), under the same load
                job, result = timed(lambda: tick(checkout, github.url))
                assert isinstance(result, Tick)
                bumped = len(result.report.bumped())
                if bumped != args.due or not result.report.ok:
                    raise SystemExit(f"expected {args.due} bumps, got {result.report.results[:3]}")
                calls, serving = github.calls(), github.serving_seconds()
                fresh = github.fresh_checkout(root / f"run-{run}")
                github.admin("DELETE", "calls")
                idle, again = timed(lambda: tick(fresh, github.url))  # noqa: B023
                assert isinstance(again, Tick)
                if again.report.bumped():
                    raise SystemExit("the second tick bumped again")
                rounds.append(Round(load, job, result, calls, serving, idle, github.calls()))

    best = min(rounds, key=lambda r: r.job.wall / r.load.wall)
    load_wall, load_cpu = min(r.load.wall for r in rounds), min(r.load.cpu for r in rounds)
    job_wall, job_cpu = min(r.job.wall for r in rounds), min(r.job.cpu for r in rounds)
    wall_ratio, cpu_ratio = job_wall / load_wall, job_cpu / load_cpu
    total = sum(best.calls.values())
    per_bump = total / args.due
    api_wall = best.job.wall - best.tick.reading
    print(
        f"{flag_count} flag files, {args.due} due; best of {args.repeat} rounds; load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    print("seconds, wall / CPU of this process (the emulator works in its own process)")
    print(f"(a) read + yaml.load (CSafeLoader): {load_wall:6.3f} / {load_cpu:6.3f}")
    print(f"(b) rollout tick, {args.due} bumps:       {job_wall:6.3f} / {job_cpu:6.3f}")
    print(
        f"    in the best round: reading the checkout {best.tick.reading:.3f}, deciding and "
        f"{total} API calls {api_wall:.3f} = {api_wall / total * 1e3:.2f} ms per call as "
        f"PyGithub sees it, of which the emulator's handler {best.serving / total * 1e3:.2f} ms"
    )
    print(
        f"ratio b/a, wall: {wall_ratio:.2f} (goal <= 1.5: "
        f"{'meets' if wall_ratio <= 1.5 else 'MISSES'}); CPU of the job alone: {cpu_ratio:.2f}"
    )
    print(
        f"API calls: {total} for {args.due} bumps = {per_bump:.2f} per bump (goal <= 2: "
        f"{'meets' if per_bump <= 2 else 'MISSES'}); {describe(best.calls)}"
    )
    print(
        "second tick at the same moment on a fresh checkout (nothing due): "
        f"{best.idle.wall:.3f} / {best.idle.cpu:.3f} s; {describe(best.idle_calls)}"
    )
    writes_ok = args.no_writes or writes_section(args.write_files, args.due, args.write_rounds)
    return 0 if wall_ratio <= 1.5 and per_bump <= 2 and writes_ok else 1


if __name__ == "__main__":
    os.environ.pop("GITHUB_TOKEN", None)
    sys.exit(main())
