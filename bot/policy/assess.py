"""From what the service read on GitHub (raw bytes) to the decision's input: load, validate,
classify and look up owners. Pure, so the whole path from file contents to decision is tested
without a network.

Policy and CODEOWNERS come from the pull request's BASE commit only; flag files are loaded
with the base policy's defaults. Head files that fail to load become validation problems, and
so does every other path under flags/ that no change request could put to approvers (an
invalid location removed or renamed, a file that is no flag, an old side that could not be
read, a symlink or submodule at the head): nothing there goes unapproved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from bot.diagnostics import Diagnostic
from bot.exports import unsupported
from bot.flags.filemode import KINDS, tree_problems
from bot.flags.load import load_flag
from bot.flags.location import FlagLocation, in_flags_dir, is_flag_path, locate
from bot.flags.model import Flag
from bot.flags.repository import load_with_policy, read_policy
from bot.policy.changes import FileVersions, classify
from bot.policy.codeowners import CodeOwners, load_codeowners
from bot.policy.config import POLICY_PATH
from bot.policy.decision import DecisionInput, PullRequestFacts
from bot.policy.model import NULL_POLICY, Policy
from bot.policy.patch import reverse_patch
from bot.policy.reviews import Review
from bot.validation import Repository, declared_environments, duplicate_keys


@dataclass(frozen=True, slots=True)
class ChangedFile:
    path: str
    status: str  # GitHub's: added, removed, modified, renamed, copied, changed, unchanged
    previous_path: str | None = None
    sha: str | None = None  # blob id of the head version (None when removed)
    patch: str | None = None  # GitHub's unified diff from the merge base (absent when large)


@dataclass(frozen=True, slots=True)
class PullContext:
    pr: PullRequestFacts
    files: tuple[ChangedFile, ...]
    base_files: Mapping[str, bytes]  # flag files' old side: at the merge base, as in the diff
    head_files: Mapping[str, bytes]  # flag files at the head commit (the new side)
    policy_file: bytes | None  # .github/flagbot.yml at the base commit
    codeowners: tuple[str, bytes] | None  # (path, content) at the base commit
    reviews: tuple[Review, ...]
    head_flag_paths: tuple[str, ...] | None = None  # every flag path at head, for collisions
    files_truncated: bool = False
    # git mode of every entry under flags/ at the head commit (one tree read); None when
    # GitHub could not list it whole, which fails closed
    head_modes: Mapping[str, str] | None = field(default_factory=dict)


def old_path(f: ChangedFile) -> str | None:
    if f.status in ("added", "copied"):  # a copy leaves its source in place: nothing removed
        return None
    return f.previous_path or f.path


def new_path(f: ChangedFile) -> str | None:
    return None if f.status == "removed" else f.path


def wanted_contents(files: tuple[ChangedFile, ...]) -> tuple[list[str], list[str]]:
    """Which flag files the service must fetch: (at base, at head)."""
    base = [p for f in files if (p := old_path(f)) and is_flag_path(p)]
    head = [p for f in files if (p := new_path(f)) and is_flag_path(p)]
    return base, head


def old_versions(
    files: tuple[ChangedFile, ...], head: Mapping[str, bytes]
) -> tuple[dict[str, bytes], list[str]]:
    """Old sides recovered from each file's patch and new side; and the paths that could not
    be (no patch, or it did not fit), which must be read at the merge base. A rename without
    a patch is read too: GitHub leaves the patch out of a diff too large to show as well as
    of a pure rename, and the two cannot be told apart here."""
    recovered: dict[str, bytes] = {}
    missing: list[str] = []
    for f in files:
        before = old_path(f)
        if before is None or not is_flag_path(before):
            continue
        after = new_path(f)
        new = head.get(after, b"") if after is not None else b""
        if after is not None and after not in head:
            missing.append(before)
            continue
        try:
            old = reverse_patch(new.decode("utf-8"), f.patch) if f.patch else None
        except UnicodeDecodeError:
            old = None
        if old is None:
            missing.append(before)
        else:
            recovered[before] = old.encode("utf-8")
    return recovered, missing


def paths_after(base_paths: tuple[str, ...], files: tuple[ChangedFile, ...]) -> tuple[str, ...]:
    """The paths the base would hold once the pull request is merged (for collision checks),
    without reading the head's whole tree."""
    after = set(base_paths)
    for f in files:
        if (old := old_path(f)) is not None and f.status in ("removed", "renamed"):
            after.discard(old)
        if (new := new_path(f)) is not None:
            after.add(new)
    return tuple(sorted(after))


def assess(ctx: PullContext) -> DecisionInput:
    policy, policy_problems = read_policy(ctx.policy_file, (MISSING_POLICY,))
    default_env = policy.default_environment
    owners_file = _codeowners(ctx.codeowners)

    problems: list[Diagnostic] = _head_tree_problems(ctx.head_modes)
    versions: list[FileVersions] = []
    changed: list[str] = []
    for f in ctx.files:
        before_path, after_path = old_path(f), new_path(f)
        changed += [p for p in dict.fromkeys((before_path, after_path)) if p and p not in changed]
        if not any(p and in_flags_dir(p) for p in (before_path, after_path)):
            continue
        found = [d for p in (before_path, after_path) if p and (d := _not_a_flag_file(p))]
        if found:
            problems += found
            continue
        special = ctx.head_modes is not None and ctx.head_modes.get(after_path or "") in KINDS
        if special:
            continue  # reported with the head tree's entries
        before = after = None
        if before_path and is_flag_path(before_path):
            before, found = _old_side(ctx.base_files.get(before_path), f, before_path, default_env)
            if before is None:
                problems += found
                continue
        if after_path and is_flag_path(after_path):
            data = ctx.head_files.get(after_path)
            if data is None:
                problems.append(Diagnostic(after_path, 0, 0, "could not read this file"))
                continue
            after, found = load_with_policy(data, after_path, policy)
            problems += found
            if after is None:
                continue
            # as `flagbot validate` does: a merge never breaks the exports flagbot.yml lists
            problems += [
                d
                for target in policy.exports
                for d in unsupported({after_path: data}, after, target)
            ]
        versions.append(FileVersions(before_path, before, after_path, after))
    problems += _collisions(ctx, default_env)
    problems += _undeclared_environments(ctx, policy)

    pr = ctx.pr
    reason = pr.title + (f"\n\n{pr.body}" if pr.body else "")
    changes = tuple(classify(versions, requested_by=pr.author, reason=reason))
    owners = {
        p: owners_file.owners_of(p) if owners_file is not None else None
        for c in changes
        for p in c.paths
    }
    return DecisionInput(
        pr=pr,
        changed_paths=tuple(changed),
        changes=changes,
        problems=tuple(problems),
        policy=policy,
        policy_problems=tuple(policy_problems),
        owners=owners,
        codeowners_path=owners_file.path if owners_file is not None else None,
        reviews=ctx.reviews,
        files_truncated=ctx.files_truncated,
    )


# Fail closed: without a policy at the base nobody may approve, so the pull request is rejected.
MISSING_POLICY = Diagnostic(
    POLICY_PATH,
    0,
    0,
    f"{POLICY_PATH} is missing on the base branch: add one that maps the roles "
    "manager and qa to code owners",
)


@lru_cache(maxsize=64)
def _codeowners(found: tuple[str, bytes] | None) -> CodeOwners | None:
    if found is None:
        return None
    owners, _ = load_codeowners(found[1], found[0])  # invalid lines are skipped, as GitHub does
    return owners


def _head_tree_problems(modes: Mapping[str, str] | None) -> list[Diagnostic]:
    if modes is None:
        return [
            Diagnostic(
                "flags/",
                0,
                0,
                "GitHub could not list flags/ at the head commit whole, so flagbot cannot "
                "tell whether every entry is a regular file: split the folder or the change",
                "error",
                "flag-tree-unknown",
            )
        ]
    return tree_problems(modes)


def _not_a_flag_file(path: str) -> Diagnostic | None:
    """A path under flags/ that no flag file can have: nobody is asked to approve it."""
    if not in_flags_dir(path) or is_flag_path(path):
        return None
    return Diagnostic(
        path,
        0,
        0,
        f"{path} is in flags/ but is not a flag file (flag files end in .yaml or .yml), so no "
        "role approves changing it and flagbot will not merge it: keep other files out of "
        "flags/",
        "error",
        "not-a-flag-file",
    )


def _old_side(
    data: bytes | None, f: ChangedFile, path: str, default_env: str
) -> tuple[Flag | None, list[Diagnostic]]:
    """The flag a removed, renamed or modified file was. When there is none to put to
    approvers (the old path is no valid flag location, or its content could not be read),
    that is a problem: the change would otherwise need no approval at all."""
    verb = {"removed": "removes", "renamed": "renames"}.get(f.status, "changes")
    location, why = locate(path, default_env)
    if location is None:
        reason = "; ".join(d.message.split(";")[0] for d in why)  # what is wrong, not the fix
        return None, [
            Diagnostic(
                path,
                0,
                0,
                f"this pull request {verb} {path}, which is not a valid flag location "
                f"({reason}). flagbot reads no flag from such a file, so no role can approve "
                "this change and flagbot will not merge it: leave the file out of this pull "
                "request, and ask a repository admin to remove or move it separately",
                "error",
                "unapprovable-change",
            )
        ]
    if data is None:
        return None, [
            Diagnostic(
                path,
                0,
                0,
                f"could not read {path} as it was before this pull request, so flagbot cannot "
                "tell approvers what this change does: re-run the check",
                "error",
                "old-side-unread",
            )
        ]
    return _base_flag(data, location), []


def _base_flag(data: bytes, location: FlagLocation) -> Flag:
    """The old side. A base file that no longer loads still diffs by its raw fields, so a fix
    to a broken flag is an update, never mistaken for a create."""
    flag, _ = load_flag(data, location.path, default_environment=location.environment)
    if flag is not None:
        return flag
    try:
        raw = yaml.safe_load(data)
    except yaml.YAMLError:
        raw = None
    return Flag(
        key=location.key,
        environment=location.environment,
        path=location.path,
        name="",
        raw=raw if isinstance(raw, dict) else {},
    )


def _undeclared_environments(ctx: PullContext, policy: Policy) -> list[Diagnostic]:
    """Flag files this pull request adds or changes in a folder flagbot.yml does not list as
    an environment: `flagbot validate` and the exports refuse them on the base branch, so
    they are not merged there (removing one stays possible)."""
    locations = []
    for f in ctx.files:
        path = new_path(f)
        if path is not None and is_flag_path(path):
            loc, _ = locate(path, policy.default_environment)
            if loc is not None:
                locations.append(loc)
    repo = Repository({}, policy, (), tuple(locations))
    return list(declared_environments(repo))


def _collisions(ctx: PullContext, default_env: str) -> list[Diagnostic]:
    """Duplicate keys at head, reported on the files this pull request touches."""
    if ctx.head_flag_paths is None:
        return []
    locations: list[FlagLocation] = []
    for path in ctx.head_flag_paths:
        loc, _ = locate(path, default_env)
        if loc is not None:
            locations.append(loc)
    touched = {new_path(f) for f in ctx.files}
    repo = Repository({}, NULL_POLICY, (), tuple(locations))
    return [d for d in duplicate_keys(repo) if d.path in touched]
