"""`.pre-commit-hooks.yaml`: the flagbot-validate hook runs `flagbot validate` on the whole
repository whenever a file it checks changes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
[HOOK] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_the_hook_is_flagbot_validate_over_the_whole_repository():
    assert HOOK["id"] == "flagbot-validate"
    assert HOOK["language"] == "python"  # pre-commit installs this repository at `rev`
    assert HOOK["pass_filenames"] is False  # a policy change can break an untouched flag
    args = build_parser().parse_args(shlex.split(HOOK["entry"])[1:])
    assert args.command == "validate" and args.paths == []


def test_it_runs_for_the_files_validate_reads_and_no_others():
    files = re.compile(HOOK["files"])
    for path in ("flags/a.yaml", "flags/staging/b.yml", ".github/flagbot.yml",
                 ".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"):  # fmt: skip
        assert files.search(path), path
    for path in ("README.md", "bot/cli.py", "flags/notes.txt", ".github/workflows/ci.yml"):
        assert not files.search(path), path
