"""bench/export.py's generated flags must load cleanly and export in both formats, or the
benchmark measures error paths."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.exports import export
from bot.exports.flagset import FlagSet

ROOT = Path(__file__).resolve().parents[2]


def test_generated_flags_load_and_export():
    spec = importlib.util.spec_from_file_location("bench_export", ROOT / "bench" / "export.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    flagset = FlagSet.from_snapshot(bench.snapshot(12))
    assert flagset.diagnostics == () and len(flagset.flags) == 12
    assert flagset.environments == ("production", "staging")
    for env in flagset.environments:
        for target in ("flagd", "unleash"):
            assert export(flagset, target, env).document is not None
    evaluated = FlagSet.from_snapshot(bench.EVAL_FLAGS)
    assert len(evaluated.flags) == len(bench.EVAL_FLAGS) and not evaluated.diagnostics
