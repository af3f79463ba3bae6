"""`flagbot schema flag|policy` prints the shipped schemas, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.release import SCHEMA_FILES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["flag", "policy"])
def test_prints_the_schema_the_urls_point_at(name, capsys):
    assert main(["schema", name]) == 0
    out = capsys.readouterr().out
    assert out == (ROOT / SCHEMA_FILES[name]).read_text()
    assert json.loads(out)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_an_unknown_schema_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["schema", "workflow"])
    assert exc.value.code == 2
    assert "invalid choice: 'workflow'" in capsys.readouterr().err
