"""What exporting the flags for applications costs, and what evaluating one flag costs.

(1) Export against load: generates N flag files (default 10,000: boolean rollouts, string
flags with rules, kill switches, staging flags), then times in paired rounds (each work in
order, then in reverse), (a) loading them as every command does (`FlagSet.from_snapshot`: safe YAML
with positions, every rule, flagbot.yml's defaults) and (b) `flagbot export`'s work from the
same bytes: loading, then the flagd and the Unleash documents of every environment, encoded
as JSON. Goal: (b)/(a) <= 1.5 (median of the rounds).

(2) Evaluation: flagbot's evaluator against the real flagd provider (in-process, from the
exported file) and the real Unleash SDK (bootstrapped from the exported document), on the
same flags and the same subjects, in paired rounds. Goal: flagbot's cost per evaluation no
more than the fastest of the two (ratio <= 1.0). Skipped when the SDKs are not installed
(`pip install -e '.[test]'`).

    python bench/export.py [--flags 10000] [--rounds 7] [--subjects 3000]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.exports import encode, export  # noqa: E402
from bot.exports.flagset import FlagSet  # noqa: E402
from bot.flags.evaluate import evaluate  # noqa: E402

POLICY = b"""\
roles: {manager: ["@acme/eng-managers"], qa: ["@acme/qa"]}
environments: [production, staging]
exports: [flagd, unleash]
"""

BOOLEAN = """\
name: Flag number {i}
description: A generated boolean flag, rolled out in stages.
tags: [generated, team-{team}]
default: false
value: true
rollout:
  percentage: {pct}
  stages: [5, 25, 50, 75, 100]
  every: 60m
"""

STRING = """\
name: Banner {i}
type: string
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
  - name: markets
    attribute: country
    operator: in
    values: [NL, BE, DE]
    serve: "Welkom"
rollout:
  percentage: 25
"""

SWITCH = """\
name: Kill switch {i}
enabled: {enabled}
"""

GOAL_EXPORT = 1.5
GOAL_EVALUATION = 1.0


def snapshot(count: int) -> dict[str, bytes]:
    files = {".github/flagbot.yml": POLICY}
    for i in range(count):
        kind = i % 4
        if kind == 3:
            files[f"flags/staging/banner_{i}.yaml"] = STRING.format(i=i).encode()
        elif kind == 2:
            text = SWITCH.format(i=i, enabled=str(i % 8 != 2).lower())
            files[f"flags/switch_{i}.yaml"] = text.encode()
        else:
            pct = (5, 25, 50, 75, 100)[i % 5]
            files[f"flags/flag_{i}.yaml"] = BOOLEAN.format(i=i, team=i % 7, pct=pct).encode()
    return files


def timed(work: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def paired(rounds: int, works: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Each round runs every work twice, in order and then in reverse (a b c c b a), and
    records each work's mean: going first or last favours no one."""
    names = list(works)
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(rounds):
        took = dict.fromkeys(names, 0.0)
        for name in [*names, *reversed(names)]:
            took[name] += timed(works[name]) / 2
        for name in names:
            times[name].append(took[name])
    return times


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"


def verdict(ratio: float, goal: float) -> str:
    return "meets" if ratio <= goal else "MISSES"


def bench_export(count: int, rounds: int) -> bool:
    files = snapshot(count)

    def load() -> FlagSet:
        flagset = FlagSet.from_snapshot(files)
        if len(flagset.flags) != count or flagset.diagnostics:
            raise SystemExit(f"generated files did not load: {flagset.diagnostics[:3]}")
        return flagset

    def exported() -> None:
        flagset = load()
        for env in flagset.environments:
            for target in ("flagd", "unleash"):
                result = export(flagset, target, env)
                if result.document is None:
                    raise SystemExit(f"export failed: {result.problems[:3]}")
                encode(result.document, indent=2)  # as `flagbot export` writes it

    exported()  # warm up
    times = paired(rounds, {"load": load, "export": exported})
    ratios = [e / a for a, e in zip(times["load"], times["export"], strict=True)]
    ratio = statistics.median(ratios)
    load_s, export_s = statistics.median(times["load"]), statistics.median(times["export"])
    print(f"(1) {count} flag files, {rounds} paired rounds")
    print(f"    (a) load:                 {load_s:7.3f} s  ({load_s / count * 1e6:5.0f} µs/flag)")
    print(
        f"    (b) load + flagd + unleash: {export_s:5.3f} s  "
        f"({export_s / count * 1e6:5.0f} µs/flag)"
    )
    print(
        f"    ratio b/a: {ratio:.2f} median, rounds {spread(ratios)} "
        f"(goal <= {GOAL_EXPORT}: {verdict(ratio, GOAL_EXPORT)})"
    )
    return ratio <= GOAL_EXPORT


EVAL_FLAGS = {
    "flags/new_checkout_flow.yaml": b"name: New checkout\nrollout: {percentage: 25}\n",
    "flags/banner.yaml": STRING.format(i=0).encode(),
    "flags/payments.yaml": b"name: Payments\nenabled: false\n",
}


def subjects(n: int) -> list[tuple[str, dict[str, str]]]:
    countries = ("NL", "FR", "US", "BE")
    out = []
    for i in range(n):
        attrs = {"country": countries[i % 4], "order_total": str(i % 900)}
        if i % 10 == 0:
            attrs["email"] = f"u{i}@acme.example"
        out.append((f"user-{i}", attrs))
    return out


def bench_evaluation(n: int, rounds: int) -> bool:
    try:
        from openfeature import api
        from openfeature.contrib.provider.flagd import FlagdProvider
        from openfeature.contrib.provider.flagd.config import ResolverType
        from openfeature.evaluation_context import EvaluationContext
        from UnleashClient import UnleashClient
        from UnleashClient.cache import FileCache
    except ImportError as exc:
        print(f"(2) skipped: the real evaluators are not installed ({exc})")
        return True
    logging.getLogger("openfeature").setLevel(logging.CRITICAL)
    flagset = FlagSet.from_snapshot(EVAL_FLAGS)
    flags = sorted(flagset.flags, key=lambda f: f.key)
    people = subjects(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "production.flagd.json"
        path.write_text(json.dumps(export(flagset, "flagd", "production").document))
        api.set_provider_and_wait(
            FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=str(path))
        )
        client = api.get_client()
        cache = FileCache("bench", directory=tmp)
        cache.bootstrap_from_dict(export(flagset, "unleash", "production").document)
        unleash = UnleashClient(
            url="http://127.0.0.1:9/api",
            app_name="bench",
            cache=cache,
            disable_metrics=True,
            disable_registration=True,
        )
        unleash.initialize_client(fetch_toggles=False)
        try:
            getters = {
                "boolean": client.get_boolean_value,
                "string": client.get_string_value,
            }
            contexts = [EvaluationContext(k, a) for k, a in people]
            uctx = [{"userId": k, "properties": a} for k, a in people]

            def flagbot() -> None:
                for flag in flags:
                    for key, attrs in people:
                        evaluate(flag, key, attrs)

            def flagd() -> None:
                for flag in flags:
                    get = getters[flag.type]
                    for ctx in contexts:
                        get(flag.key, None, ctx)

            def unleash_sdk() -> None:
                for flag in flags:
                    if flag.type == "boolean":
                        for ctx in uctx:
                            unleash.is_enabled(flag.key, ctx)
                    else:
                        for ctx in uctx:
                            unleash.get_variant(flag.key, ctx)

            works = {"flagbot": flagbot, "flagd": flagd, "unleash": unleash_sdk}
            for work in works.values():
                work()  # warm up
            times = paired(rounds, works)
        finally:
            unleash.destroy()
            api.shutdown()
    evaluations = n * len(flags)
    per = {k: statistics.median(v) / evaluations * 1e6 for k, v in times.items()}
    print(f"(2) {evaluations} evaluations ({len(flags)} flags × {n} subjects), {rounds} rounds")
    for name, us in per.items():
        print(f"    {name:8} {us:7.2f} µs/evaluation (median)")
    ratios = {
        other: [f / o for f, o in zip(times["flagbot"], times[other], strict=True)]
        for other in ("flagd", "unleash")
    }
    fastest = min(("flagd", "unleash"), key=lambda k: per[k])
    ratio = statistics.median(ratios[fastest])
    for other, rs in ratios.items():
        print(f"    flagbot/{other}: {statistics.median(rs):.3f} median, rounds {spread(rs)}")
    print(
        f"    against the fastest ({fastest}): {ratio:.3f} "
        f"(goal <= {GOAL_EVALUATION}: {verdict(ratio, GOAL_EVALUATION)})"
    )
    return ratio <= GOAL_EVALUATION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--subjects", type=int, default=3000)
    args = parser.parse_args(argv)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} CPUs (other work moves every number)")
    ok = bench_export(args.flags, args.rounds)
    ok = bench_evaluation(args.subjects, args.rounds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
