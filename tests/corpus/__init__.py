"""Bad files, each declaring in its header the diagnostics flagbot must give for it.

Header lines at the very top of each file (they are YAML comments, so line numbers below
count them too):

    # expect: LINE:COL text that the message contains    (one line per expected error)
    # schema: pass | fail | unparseable                   (what the JSON Schema says; flags only)
    # path: flags/<env>/<key>.yaml                        (the repository path to load it as)
    # pad-to: BYTES                                       (append comment lines up to this size)

Every error must be expected and every expectation met, at its line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent
_HEADER = re.compile(rb"# (expect|schema|path|pad-to): ?(.*)")
_EXPECT = re.compile(r"(\d+):(\d+) (.+)")


@dataclass(frozen=True)
class Expected:
    line: int
    column: int
    text: str


@dataclass(frozen=True)
class Case:
    file: Path
    path: str  # repository path the content is loaded as
    data: bytes
    expected: tuple[Expected, ...]
    schema: str | None

    @property
    def id(self) -> str:
        return self.file.stem


def load_case(file: Path, default_path: str) -> Case:
    data = file.read_bytes()
    expected: list[Expected] = []
    headers: dict[bytes, bytes] = {}
    for raw in data.splitlines():
        match = _HEADER.fullmatch(raw)
        if not match:
            break
        key, value = match.groups()
        if key == b"expect":
            parsed = _EXPECT.fullmatch(value.decode())
            if not parsed:
                raise ValueError(f"{file}: bad expect line {value!r}")
            expected.append(Expected(int(parsed[1]), int(parsed[2]), parsed[3]))
        else:
            headers[key] = value
    if b"pad-to" in headers:
        size = int(headers[b"pad-to"])
        filler = b"# padding to make the file too large to load\n"
        data += filler * (size // len(filler) + 1)
    if not expected:
        raise ValueError(f"{file}: a corpus file must declare at least one `# expect:`")
    path = headers.get(b"path", default_path.encode()).decode()
    schema = headers[b"schema"].decode() if b"schema" in headers else None
    return Case(file, path, data, tuple(expected), schema)


def flag_cases() -> list[Case]:
    return [load_case(f, f"flags/{f.stem}.yaml") for f in sorted((CORPUS / "flags").glob("*.yaml"))]


def policy_cases() -> list[Case]:
    return [load_case(f, ".github/flagbot.yml") for f in sorted((CORPUS / "policy").glob("*.yml"))]
