"""How much does flagbot's validation cost over merely parsing the YAML?

Generates 10,000 flag files in a temporary directory, reads them back, then times in the same
run (a) loading each with PyYAML's C loader and (b) `validate_snapshot` over all of them (safe
loading with positions, every flag rule, flagbot.yml, the cross-file checks). Prints the ratio
b/a (goal: at most 2.0) and the peak memory of (b).

Then the command end to end from disk, in paired rounds: (c) reading every file plainly and
loading it with the C loader against (d) `flagbot validate` itself (finding and reading the
files, validating, formatting); and the reading alone, plain `read_bytes` against the
command's reader. Median ratio and spread over the rounds (goal d/c: at most 2.0).

    python bench/validate.py [--files N] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.commands import validate as command
from bot.validation import validate_snapshot

POLICY = """\
roles:
  manager: ["@acme/eng-managers"]
  qa: ["@acme/qa"]
  oncall: ["@acme/oncall"]
require:
  environments: {staging: [manager]}
  rules:
    - name: emergency-off
      when: {environment: production, change_type: toggle, enabled: false}
      roles: [oncall]
"""

CODEOWNERS = """\
*                @acme/platform
/flags/          @acme/eng-managers @acme/qa @acme/oncall
/flags/staging/  @acme/eng-managers @acme/qa
"""

BOOLEAN = """\
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
  percentage: {pct}
  stages: [5, 25, 50, 75, 100]
  every: 60m
  stage_started:
    percentage: {pct}
    at: 2024-05-01T10:00:00Z
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
  - name: big-spenders
    attribute: order_total
    operator: gte
    values: [500]
    serve: "Thank you"
rollout:
  percentage: 25
"""

SWITCH = """\
name: Kill switch {i}
status: active
tags: [generated, kill-switch]
enabled: true
"""


def generate(root: Path, count: int) -> None:
    (root / ".github").mkdir()
    (root / ".github" / "flagbot.yml").write_text(POLICY)
    (root / ".github" / "CODEOWNERS").write_text(CODEOWNERS)
    (root / "flags" / "staging").mkdir(parents=True)
    for i in range(count):
        kind = i % 4
        if kind == 3:
            path, text = f"flags/staging/banner_{i}.yaml", STRING.format(i=i)
        elif kind == 2:
            path, text = f"flags/switch_{i}.yaml", SWITCH.format(i=i)
        else:
            pct = (5, 25, 50, 75, 100)[i % 5]
            path, text = f"flags/flag_{i}.yaml", BOOLEAN.format(i=i, team=i % 7, pct=pct)
        (root / path).write_text(text)


def read(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class Paired:
    def __init__(self, report: str, met: bool) -> None:
        self.report, self.met = report, met


def median_spread(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(ordered):.2f} (spread {ordered[0]:.2f}-{ordered[-1]:.2f})"


def from_disk(root: Path, rounds: int) -> Paired:
    """Paired rounds over the files on disk: plain read + C loader vs the command."""
    paths = [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] == "flags"
    ]

    def plain_read() -> list[bytes]:
        return [p.read_bytes() for p in paths]

    def plain_load() -> None:
        for data in plain_read():
            yaml.load(data, Loader=yaml.CSafeLoader)

    def run_command() -> None:
        args = argparse.Namespace(paths=[], format="json")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.chdir(root):
            if command.run(args) != 0:
                raise SystemExit("the generated repository did not validate")

    def command_read() -> None:
        command.read_snapshot(root)

    run_command()  # warm the page cache and imports
    plain_load()
    whole, reads, times = [], [], {"c": [], "d": [], "read": [], "ours": []}
    for _ in range(rounds):
        c, d = timed(plain_load), timed(run_command)
        r, o = timed(plain_read), timed(command_read)
        whole.append(d / c)
        reads.append(o / r)
        for key, value in zip(times, (c, d, r, o), strict=True):
            times[key].append(value)
    med = {k: statistics.median(v) for k, v in times.items()}
    met = statistics.median(whole) <= 2.0
    lines = [
        f"from disk, {len(paths)} files, {rounds} paired rounds (medians):",
        f"(c) plain read + CSafeLoader:  {med['c']:7.3f} s",
        f"(d) flagbot validate (command): {med['d']:7.3f} s",
        f"ratio d/c: {median_spread(whole)} (goal <= 2.0: {'meets' if met else 'MISSES'})",
        f"reading alone: plain {med['read']:.3f} s, the command's reader {med['ours']:.3f} s, "
        f"ratio {median_spread(reads)}",
    ]
    return Paired("\n".join(lines), met)


def timed(work: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds from disk")
    args = parser.parse_args(argv)
    if not yaml.__with_libyaml__:
        print("PyYAML was built without libyaml; the baseline would be the pure-Python loader")
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, args.files)
        snapshot = read(root)
        end_to_end = from_disk(root, args.rounds)
    flag_files = [data for path, data in snapshot.items() if path.startswith("flags/")]

    def baseline() -> None:
        for data in flag_files:
            yaml.load(data, Loader=yaml.CSafeLoader)

    def flagbot() -> None:
        result = validate_snapshot(snapshot)
        if not result.ok or len(result.repository.flags) != len(flag_files):
            raise SystemExit(f"generated files did not validate: {result.diagnostics[:3]}")

    flagbot()  # warm up imports and caches for both
    baseline()
    load_time = best_of(args.repeat, baseline)
    validate_time = best_of(args.repeat, flagbot)

    tracemalloc.start()
    flagbot()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    ratio = validate_time / load_time
    n = len(flag_files)
    print(f"{n} flag files ({sum(map(len, flag_files)) / 1e6:.1f} MB), best of {args.repeat}")
    print(
        f"(a) yaml.load with CSafeLoader: {load_time:7.3f} s  ({load_time / n * 1e6:5.0f} µs/file)"
    )
    print(
        f"(b) flagbot validate_snapshot:  {validate_time:7.3f} s  "
        f"({validate_time / n * 1e6:5.0f} µs/file)"
    )
    print(f"ratio b/a: {ratio:.2f} (goal <= 2.0)")
    print(
        f"peak memory of (b), tracemalloc: {peak / 2**20:.1f} MiB; process max RSS: "
        f"{max_rss_kib / 1024:.0f} MiB"
    )
    print(end_to_end.report)
    met = ratio <= 2.0 and end_to_end.met
    if not met:
        print("MISSED a goal (see above)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
