"""Golden transcripts: the REST calls the bot made for a replayed sequence, stored as text in
`tests/replay/golden/NAME.txt` and compared exactly.

Regenerate them after a deliberate change to what the bot calls (then read the diff):

    FLAGBOT_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/replay
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = "FLAGBOT_REGENERATE_GOLDEN"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get(REGENERATE):
        path.write_text(text)
        return
    assert path.exists(), (
        f"no golden transcript {path.name}: run `{REGENERATE}=1 .venv/bin/python -m pytest "
        "tests/replay` and review the new file"
    )
    assert text == path.read_text(), (
        f"the bot's calls differ from {path.name}; if the change is intended, regenerate with "
        f"`{REGENERATE}=1 .venv/bin/python -m pytest tests/replay` and review the diff"
    )
