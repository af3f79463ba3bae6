"""Where flagbot itself is published, and the stable URLs of what it ships.

A flags repository points at one flagbot release: its workflows call this repository's
reusable workflows at that release, and its schema modelines fetch the schemas from it.
"""

from __future__ import annotations

import re

from bot import __version__

# The GitHub repository flagbot is released from; `flagbot init --flagbot-repo` overrides it
# for a fork or a mirror.
HOME_REPOSITORY = "flagbot/flagbot"
RELEASE_TAG = f"v{__version__}"
COMMIT_SHA = re.compile(r"[0-9a-f]{40}")

# Schema name -> its file in this repository (and in the installed package under bot/).
SCHEMA_FILES = {
    "flag": "bot/flags/flag.schema.json",
    "policy": "bot/policy/policy.schema.json",
}


def schema_url(name: str, ref: str, repository: str = HOME_REPOSITORY) -> str:
    """The schema as it is at `ref` (a tag or a commit): stable, unlike a branch."""
    return f"https://raw.githubusercontent.com/{repository}/{ref}/{SCHEMA_FILES[name]}"
