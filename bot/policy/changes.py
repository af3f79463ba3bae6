"""Change classification: base and head versions of the changed flag files → change requests.

The vocabulary is the seed's: `create` (file added), `delete` (file removed), `toggle` (only
`enabled` changed), `rollout` (only fields under `rollout` changed), `update` (anything else,
including a change that alters no field, such as comments or formatting). A rename is a delete
of the old key plus a create of the new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.flags.model import Flag
from bot.policy.model import ChangeType


class _Missing:
    """A field absent on one side of a change (distinct from an explicit null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str  # dotted path, e.g. "rollout.percentage"
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class FileVersions:
    """One changed flag file: its path on each side and the loaded flag on each side.

    `before` is None when the file is new; `after` is None when it was removed. Both sides are
    already valid flags; invalid files never reach classification.
    """

    before_path: str | None
    before: Flag | None
    after_path: str | None
    after: Flag | None


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    key: str
    environment: str
    change_type: ChangeType
    path: str  # head path (base path for a delete)
    changes: tuple[FieldChange, ...]
    requested_by: str
    reason: str
    enabled_after: bool | None  # None for a delete
    previous_path: str | None = None  # the base path, when a rename kept the key

    @property
    def paths(self) -> tuple[str, ...]:
        """Every repository path this request puts to approvers."""
        return (
            (self.path,)
            if self.previous_path in (None, self.path)
            else (
                self.path,
                self.previous_path,
            )
        )

    @property
    def summary(self) -> str:
        return f"{self.change_type} {self.key} ({self.environment})"


def diff_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Field-by-field differences, nested mappings flattened to dotted paths, in a stable order."""
    out: list[FieldChange] = []
    _diff("", before, after, out)
    return tuple(out)


def _diff(prefix: str, before: Any, after: Any, out: list[FieldChange]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        keys = list(before) + [k for k in after if k not in before]
        for k in keys:
            _diff(
                f"{prefix}{k}" if not prefix else f"{prefix}.{k}",
                before.get(k, MISSING),
                after.get(k, MISSING),
                out,
            )
        return
    if not _same(before, after):
        out.append(FieldChange(prefix, before, after))


def _same(a: Any, b: Any) -> bool:
    # YAML `1` and `1.0` are the same percentage; True is not 1, at any depth (Python's own
    # `[1] == [True]` holds).
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def change_type_of(changes: Sequence[FieldChange]) -> ChangeType:
    if changes and all(c.field == "enabled" for c in changes):
        return "toggle"
    if changes and all(c.field == "rollout" or c.field.startswith("rollout.") for c in changes):
        return "rollout"
    return "update"


def classify(
    files: Iterable[FileVersions], *, requested_by: str, reason: str
) -> list[ChangeRequest]:
    """One change request per added, removed or modified flag; renames split in two."""
    out: list[ChangeRequest] = []
    for f in files:
        before, after = f.before, f.after
        if (
            before is not None
            and after is not None
            and before.key == after.key
            and (before.environment == after.environment)
        ):
            changes = diff_fields(before.raw, after.raw)
            request = _request(after, change_type_of(changes), changes, requested_by, reason)
            if before.path != after.path:
                request = replace(request, previous_path=before.path)
            out.append(request)
            continue
        if before is not None:
            changes = diff_fields(before.raw, {})
            out.append(_request(before, "delete", changes, requested_by, reason, deleted=True))
        if after is not None:
            changes = diff_fields({}, after.raw)
            out.append(_request(after, "create", changes, requested_by, reason))
    return out


def _request(
    flag: Flag,
    change_type: ChangeType,
    changes: tuple[FieldChange, ...],
    requested_by: str,
    reason: str,
    *,
    deleted: bool = False,
) -> ChangeRequest:
    return ChangeRequest(
        key=flag.key,
        environment=flag.environment,
        change_type=change_type,
        path=flag.path,
        changes=changes,
        requested_by=requested_by,
        reason=reason,
        enabled_after=None if deleted else flag.enabled,
    )
