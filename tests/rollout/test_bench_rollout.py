"""bench/rollout.py must measure what it says: 100 due among 10,000, decided by the real code."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from bot.rollout.checkout import read_checkout
from bot.rollout.schedule import due_bumps, needs_start_time

ROOT = Path(__file__).resolve().parents[2]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_rollout", ROOT / "bench" / "rollout.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_generated_checkout_has_exactly_the_due_flags(tmp_path):
    bench = load_bench()
    bench.write(tmp_path, bench.generate(400, 12))
    checkout = read_checkout(tmp_path)
    assert checkout.diagnostics == () and checkout.flag_count == 400
    assert len(checkout.planned) == 200
    asking = [f.path for f in checkout.planned if needs_start_time(f)]
    assert len(asking) == 2  # a tenth of the due ones were merged without a record
    bumps = due_bumps(checkout.planned, dict.fromkeys(asking, bench.MERGED), bench.NOW)
    assert len(bumps) == 12
