"""The benchmark's generated repository must stay valid, or bench/validate.py measures errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.validation import validate_snapshot

ROOT = Path(__file__).resolve().parent.parent


def test_generated_flags_validate(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_validate", ROOT / "bench" / "validate.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.generate(tmp_path, 8)
    result = validate_snapshot(bench.read(tmp_path))
    assert [str(d) for d in result.diagnostics] == []
    assert len(result.repository.flags) == 8
    assert {f.type for f in result.repository.flags} == {"boolean", "string"}
