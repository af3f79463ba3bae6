"""Flags for applications: flagbot's flags as files that flagd and the Unleash SDKs read.

Pure: a `FlagSet` in, a JSON-ready document (or the positioned reasons it cannot be made)
out. `flagbot export`, `flagbot serve` and the publish workflow all go through `export`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import msgspec

from bot.diagnostics import Diagnostic
from bot.exports import flagd, unleash
from bot.exports.flagset import FlagSet
from bot.flags.model import Flag
from bot.yamlsafe import load_mapping

if TYPE_CHECKING:
    from bot.validation import Repository

TARGETS: dict[str, ModuleType] = {flagd.TARGET: flagd, unleash.TARGET: unleash}


@dataclass(frozen=True, slots=True)
class Export:
    target: str
    environment: str
    document: dict[str, Any] | None  # None when `problems` holds an error
    problems: tuple[Diagnostic, ...]

    @property
    def filename(self) -> str:
        return f"{self.environment}{TARGETS[self.target].SUFFIX}"


def encode(document: dict[str, Any], *, indent: int = 0) -> bytes:
    """The document as UTF-8 JSON, keys in the order built (stable: the same flags give the
    same bytes, so an unchanged export is a no-op for publishing and for ETags)."""
    data = msgspec.json.encode(document)
    return msgspec.json.format(data, indent=indent) + b"\n" if indent else data


def unsupported(snapshot: Mapping[str, bytes], flag: Flag, target: str) -> list[Diagnostic]:
    """What `target` cannot express in `flag`, each at its line in the flag file."""
    found = TARGETS[target].unsupported(flag)
    if not found:
        return []
    data = snapshot.get(flag.path)
    doc = load_mapping(data, flag.path, kind="flag file")[0] if data is not None else None
    code = f"export-{target}"
    return [
        doc.diagnostic(where, message, code)
        if doc is not None
        else Diagnostic(flag.path, 1, 1, message, "error", code)
        for where, message in found
    ]


def export(flagset: FlagSet, target: str, environment: str) -> Export:
    """One environment's flags for `target`; refused whole when a flag file there (or
    flagbot.yml) is invalid or uses what the target cannot express, so a reader never gets
    a file that silently lacks a flag."""
    with _no_collection():
        problems = list(flagset.errors_in(environment))
        flags = flagset.in_environment(environment)
        for flag in flags:
            problems += unsupported(flagset.snapshot, flag, target)
        if problems:
            return Export(target, environment, None, tuple(problems))
        document = TARGETS[target].document(
            flags, flag_set_id=flagset.flag_set_id(environment), version=flagset.commit
        )
    return Export(target, environment, document, ())


@contextmanager
def _no_collection() -> Iterator[None]:
    """An export allocates many small acyclic objects; each garbage collection that sets off
    would walk the whole loaded flag set (hundreds of thousands of objects) and find nothing,
    about doubling the cost of an export. Nothing here can form a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def exportable(repo: Repository) -> Iterator[Diagnostic]:
    """`flagbot validate`'s check: with `exports: [flagd, unleash]` in flagbot.yml, every flag
    must be expressible in each listed format, so a merge never breaks the published files."""
    for target in repo.policy.exports:  # the null policy lists none
        for flag in repo.flags:
            yield from unsupported(repo.snapshot, flag, target)
