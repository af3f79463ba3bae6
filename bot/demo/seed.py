"""The demo's world: this repository's own flags and rules, as `acme/flags` on the emulated
GitHub, and the people of the policy (a developer, a manager, QA, on-call).

The files come from a flagbot checkout (the directory holding `bot/`, else the current one),
so the demo always plays on the `flags/`, CODEOWNERS and `flagbot.yml` a reader sees.
`flags/new_checkout_flow.yaml` is left out: the story creates it by pull request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import bot
from bot.emulator import seeds
from bot.emulator.seeds import APP_ID, INSTALLATION_ID, REPO, app_private_key

ORG = "acme"
NEW_FLAG = "flags/new_checkout_flow.yaml"
KILL_SWITCH = "flags/payments_kill_switch.yaml"
POLICY = ".github/flagbot.yml"
WORKFLOW = ".github/workflows/rollout.yml"
CODEOWNERS = ".github/CODEOWNERS"
REQUIRED = (POLICY, CODEOWNERS, NEW_FLAG, KILL_SWITCH)
README = (
    "# acme/flags\n\nacme's feature flags, one YAML file each in `flags/`, governed by flagbot.\n"
)


@dataclass(frozen=True, slots=True)
class Member:
    login: str
    name: str
    team: str | None  # the acme team that gives them a role in flagbot.yml


CAST: tuple[Member, ...] = (
    Member("dev", "Dana Dev", None),
    Member("mgr", "Mary Manager", "eng-managers"),
    Member("qa", "Quinn QA", "qa"),
    Member("oncall", "Omar Oncall", "oncall"),
    Member("admin", "Pat Platform", "platform"),
)


class SourceMissing(Exception):
    """No flagbot checkout to take the story's files from."""


def source_root(candidates: Sequence[Path] | None = None) -> Path:
    """The flagbot checkout whose files the demo plays on: by default the one holding the
    running `bot` package, else the current directory."""
    if candidates is None:
        candidates = [Path(bot.__file__).resolve().parents[1], Path.cwd().resolve()]
    for root in candidates:
        if all((root / path).is_file() for path in REQUIRED):
            return root
    raise SourceMissing(
        f"the demo plays on a flagbot checkout's own {', '.join(REQUIRED)}; not found in "
        f"{' or '.join(str(c) for c in candidates)}: run it from a clone of flagbot"
    )


def repository_files(root: Path) -> dict[str, str]:
    """main's first commit: flagbot.yml, CODEOWNERS, the rollout workflow and `flags/`
    without the flag the story creates."""
    return {**seeds.repository_files(root, without=(NEW_FLAG,)), "README.md": README}


def build_seed(files: dict[str, str], *, clock: datetime, first_commit: datetime) -> dict[str, Any]:
    """The emulator seed: the cast, acme's teams, the flagbot App, and `acme/flags`."""
    teams: dict[str, list[str]] = {}
    for m in CAST:
        if m.team:
            teams.setdefault(m.team, []).append(m.login)
    return {
        "clock": _iso(clock),
        "users": [
            {
                "login": m.login,
                "token": f"{m.login}-token",
                "name": m.name,
                "email": f"{m.login}@acme.example",
            }
            for m in CAST
        ],
        "orgs": [
            {
                "login": ORG,
                "members": [m.login for m in CAST if not m.team],
                "teams": [{"slug": slug, "members": logins} for slug, logins in teams.items()],
            }
        ],
        "apps": [
            {
                "id": APP_ID,
                "slug": "flagbot",
                "owner": ORG,
                "private_key": app_private_key(),
                "installations": [{"id": INSTALLATION_ID, "account": ORG}],
            }
        ],
        "repos": [
            {
                "full_name": REPO,
                "default_branch": "main",
                "files": files,
                "collaborators": {m.login: "write" for m in CAST},
                "initial_commit": {
                    "date": _iso(first_commit),
                    "message": "acme's flags as they stand",
                    "author_name": "Pat Platform",
                    "author_email": "admin@acme.example",
                },
            }
        ],
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
