"""Ready-made seeds: the standard test world, and the world this repository's own rules need.

Shipped (not test-only) because `flagbot replay` and the demo start an emulator without a seed
file. Nothing here imports pytest.

- `seed_for(files, **extra)`: users dev/mgr/qa/flagbot/outsider, org `acme` with teams, the
  `flagbot` App (id `APP_ID`) installed on `acme` (installation `INSTALLATION_ID`), and
  repository `REPO` holding `files`.
- `repository_files(root)`: a checkout's `.github/flagbot.yml`, `.github/CODEOWNERS` and
  `flags/`, as seed files.
- `acme_seed(files)`: `seed_for` with the people and teams `.github/CODEOWNERS` names
  (`@acme/eng-managers`, `@acme/qa`, `@acme/oncall`, `@acme/platform`), each with write access.
"""

from __future__ import annotations

from copy import deepcopy
from functools import lru_cache
from pathlib import Path
from typing import Any

APP_ID = 1001
INSTALLATION_ID = 2002
REPO = "acme/flags"
TOKENS = {
    "dev": "dev-token",
    "mgr": "mgr-token",
    "qa": "qa-token",
    "flagbot": "bot-token",
    "outsider": "outsider-token",
}

DEFAULT_FILES = {
    "README.md": "# flags\n",
    ".github/CODEOWNERS": "flags/ @acme/eng-managers @acme/qa\n",
    "flags/checkout.yaml": "name: New checkout\nenabled: true\nrollout:\n  percentage: 5\n",
}

# The people of `acme_seed`: managers, QA, on-call, the platform team, and one outsider.
PEOPLE = ("dev", "mgr", "mgr2", "qa", "qa2", "oncall", "admin", "outsider")
POLICY_FILES = (".github/flagbot.yml", ".github/CODEOWNERS", ".github/workflows/rollout.yml")


@lru_cache(maxsize=1)
def app_private_key() -> str:
    """A 2048-bit RSA private key (PEM), generated once per process."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def seed_for(files: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """The standard test seed; `extra` keys replace the seed's top-level keys."""
    seed: dict[str, Any] = {
        "users": [{"login": login, "token": token} for login, token in TOKENS.items()],
        "orgs": [
            {
                "login": "acme",
                "members": ["dev"],
                "teams": [
                    {"slug": "leads", "maintainers": ["mgr"]},
                    {"slug": "eng-managers", "members": ["mgr"], "parent": "leads"},
                    {"slug": "qa", "members": ["qa"]},
                ],
            }
        ],
        "apps": [
            {
                "id": APP_ID,
                "slug": "flagbot",
                "owner": "acme",
                "private_key": app_private_key(),
                "installations": [{"id": INSTALLATION_ID, "account": "acme"}],
            }
        ],
        "repos": [
            {
                "full_name": REPO,
                "default_branch": "main",
                "files": dict(DEFAULT_FILES if files is None else files),
                "collaborators": {
                    "dev": "write",
                    "mgr": "write",
                    "qa": "write",
                    "flagbot": "admin",
                },
            }
        ],
    }
    seed.update(deepcopy(extra))
    return seed


def repository_files(root: Path, *, without: tuple[str, ...] = ()) -> dict[str, str]:
    """`.github/flagbot.yml`, `.github/CODEOWNERS`, the rollout workflow and every file under
    `flags/` of a checkout at `root` (plus a README), minus `without`."""
    paths = [root / p for p in POLICY_FILES if (root / p).is_file()]
    paths += sorted(p for p in (root / "flags").rglob("*") if p.is_file())
    files = {p.relative_to(root).as_posix(): p.read_text() for p in paths}
    for path in without:
        files.pop(path, None)
    return {"README.md": "# acme flags\n", **files}


def acme_seed(files: dict[str, str]) -> dict[str, Any]:
    """`REPO` holding `files`, with the teams this repository's CODEOWNERS names."""
    return seed_for(
        files,
        users=[{"login": u, "token": f"{u}-token"} for u in PEOPLE],
        orgs=[
            {
                "login": "acme",
                "members": ["dev", "admin"],
                "teams": [
                    {"slug": "eng-managers", "members": ["mgr", "mgr2"]},
                    {"slug": "qa", "members": ["qa", "qa2"]},
                    {"slug": "oncall", "members": ["oncall"]},
                    {"slug": "platform", "members": ["admin"]},
                ],
            }
        ],
        repos=[
            {
                "full_name": REPO,
                "default_branch": "main",
                "files": files,
                "collaborators": {u: "write" for u in PEOPLE if u != "outsider"},
            }
        ],
    )
