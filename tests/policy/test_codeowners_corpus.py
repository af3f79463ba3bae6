"""Bad CODEOWNERS files, each declaring in its header comments what must be reported:
`# expect: LINE:COLUMN: fragment` for an error, `# expect-warning: ...` for a warning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.policy.codeowners import load_codeowners

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "codeowners"
EXPECT = re.compile(r"# expect(-warning)?: (\d+):(\d+): (.+)")


def expectations(text: str) -> set[tuple[str, int, int, str]]:
    found = set()
    for line in text.splitlines():
        match = EXPECT.match(line.strip())
        if match:
            severity = "warning" if match[1] else "error"
            found.add((severity, int(match[2]), int(match[3]), match[4]))
    return found


def test_the_corpus_is_there() -> None:
    assert len(list(CORPUS.glob("*.CODEOWNERS"))) >= 5


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.CODEOWNERS")), ids=lambda p: p.stem)
def test_bad_codeowners_file(path: Path) -> None:
    data = path.read_bytes()
    expected = expectations(data.decode("utf-8"))
    assert expected, f"{path.name} declares no expectations"
    _, diagnostics = load_codeowners(data, f"tests/corpus/codeowners/{path.name}")
    got = {(d.severity, d.line, d.column): d.message for d in diagnostics}
    assert set(got) == {(severity, line, column) for severity, line, column, _ in expected}
    for severity, line, column, fragment in expected:
        assert fragment in got[(severity, line, column)]
