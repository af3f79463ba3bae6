"""`flagbot schema flag|policy`: print the JSON Schema of a flag file or of flagbot.yml.

For editors and other tools; `flagbot validate` checks everything the schemas say and more.
"""

from __future__ import annotations

import argparse

HELP = "print the JSON Schema of flag files (flag) or of .github/flagbot.yml (policy)"

# Schema name -> (package, file): shipped as package data, the same files as in the repository.
SCHEMAS = {
    "flag": ("bot.flags", "flag.schema.json"),
    "policy": ("bot.policy", "policy.schema.json"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=tuple(SCHEMAS), help="which schema")


def schema_text(name: str) -> str:
    from importlib import resources

    package, file = SCHEMAS[name]
    return resources.files(package).joinpath(file).read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    print(schema_text(args.name), end="")
    return 0
