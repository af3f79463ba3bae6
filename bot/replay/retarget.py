"""Point a recorded delivery at the emulated GitHub, when it names things the emulator lacks.

A delivery exported from GitHub names a real repository, installation and sender. Replayed in
process, the bot could only answer "not found"; so, where the emulated GitHub has no such
thing, the delivery is rewritten (and each rewrite is reported):

- repository: unknown → the emulated GitHub's first repository. `repository` becomes that
  repository's JSON; every string naming the old `owner/name` (URLs, the pull request's
  `head.repo`/`base.repo`) is rewritten to the new one; `organization`, when present, becomes
  the new owner's organization (or is dropped when a user owns it);
- installation: present but not the App's installation on that repository → the App's;
- sender: a login the emulated GitHub does not know → its first user.

Everything else (pull request numbers, shas, the action) is kept as recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class Emulated:
    """The emulated GitHub as its webhooks render it. Keys are lowercase; the first repository
    receives deliveries for unknown ones, the first user stands in for unknown senders."""

    repositories: Mapping[str, Mapping[str, Any]]  # full name -> repository JSON
    installations: Mapping[str, Mapping[str, Any]]  # full name -> the App's installation JSON
    organizations: Mapping[str, Mapping[str, Any]]  # login -> organization JSON
    users: Mapping[str, Mapping[str, Any]]  # login -> user JSON


def retarget(payload: Mapping[str, Any], emulated: Emulated) -> tuple[Json, tuple[str, ...]]:
    """The payload as the emulated GitHub would have sent it, and what was rewritten."""
    out: Json = deepcopy(dict(payload))
    notes: list[str] = []
    repo = out.get("repository")
    if isinstance(repo, dict) and isinstance(repo.get("full_name"), str):
        old = repo["full_name"]
        if old.lower() not in emulated.repositories and emulated.repositories:
            target = next(iter(emulated.repositories.values()))
            out = _move_repository(out, old, target)
            out = _organization(out, emulated.organizations, target["owner"]["login"])
            notes.append(
                f"repository {old} is not in the emulated GitHub: replayed as "
                f"{out['repository']['full_name']}"
            )
        full_name = out["repository"]["full_name"].lower()
        note = _installation(out, emulated.installations.get(full_name), full_name)
        notes += [note] if note else []
    sender = out.get("sender")
    if isinstance(sender, dict) and emulated.users:
        login = str(sender.get("login") or "")
        if login.lower() not in emulated.users:
            out["sender"] = deepcopy(dict(next(iter(emulated.users.values()))))
            notes.append(
                f"sender {login or '(none)'} is not a user of the emulated GitHub: replayed as "
                f"{out['sender']['login']}"
            )
    return out, tuple(notes)


def substitute(value: Any, old: str, new: str) -> Any:
    """`value` with `old` replaced by `new` in every string inside it (keys untouched)."""
    return map_strings(value, lambda s: s.replace(old, new))


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """`value` (JSON) with `fn` applied to every string inside it (keys untouched)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    return value


def _move_repository(payload: Json, old: str, repository: Mapping[str, Any]) -> Json:
    new = str(repository["full_name"])
    out: Json = substitute(payload, old, new)
    out["repository"] = deepcopy(dict(repository))
    pull = out.get("pull_request")
    if isinstance(pull, dict):
        for side in ("head", "base"):
            branch = pull.get(side)
            if isinstance(branch, dict) and (branch.get("repo") or {}).get("full_name") == new:
                branch["repo"] = deepcopy(dict(repository))
    return out


def _installation(
    payload: Json, installation: Mapping[str, Any] | None, full_name: str
) -> str | None:
    current = payload.get("installation")
    if not isinstance(current, dict) or installation is None:
        return None
    if current.get("id") == installation.get("id"):
        return None
    payload["installation"] = deepcopy(dict(installation))
    return (
        f"installation {current.get('id')} is not the App's installation on {full_name}: "
        f"replayed as {installation.get('id')}"
    )


def _organization(
    payload: Json, organizations: Mapping[str, Mapping[str, Any]], owner: str
) -> Json:
    """`organization`, when present, as the owner's organization (dropped for a user)."""
    if "organization" not in payload:
        return payload
    out = dict(payload)
    org = organizations.get(owner.lower())
    if org is None:
        out.pop("organization")
    else:
        out["organization"] = deepcopy(dict(org))
    return out
