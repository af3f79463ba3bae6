"""Structured logs: one line per event, as JSON (for collectors) or text (for people).

Lines about a delivery or a pull request carry its context (delivery id, event, repository,
pull request number, decision step, GitHub API calls spent) without each call site passing it:
the context lives in a `ContextVar`, bound around the work (`bound(...)`) and read by the
formatter, so tasks spawned inside the work inherit it. Known secret values and anything shaped
like a GitHub token, JWT or private key are replaced before a line is written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
import traceback
from collections.abc import Iterable, Mapping
from contextlib import suppress
from contextvars import ContextVar
from typing import Any, TextIO

import msgspec

FORMATS = ("json", "text")
# The fields every line about a delivery or pull request carries (null when not known yet).
CONTEXT_FIELDS = ("delivery", "event", "repo", "pr", "step", "api_calls")
REDACTED = "[redacted]"

_context: ContextVar[dict[str, Any] | None] = ContextVar("flagbot_log_context", default=None)

# Shapes of credentials, whatever their source: GitHub tokens (ghp_, ghs_, gho_, ghu_, ghr_,
# github_pat_), JWTs, PEM blocks, and passwords in URLs (smtp://user:password@host). The URL
# part stops at a quote, so in a JSON line it never reaches into the next field.
_SECRET_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{16,}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r'|(?<=://)[^/\s:@"]+:[^/\s@"]+(?=@)',
    re.DOTALL,
)


class Spent:
    """GitHub API calls made on behalf of the bound work (shared by the tasks it spawns)."""

    __slots__ = ("calls",)

    def __init__(self) -> None:
        self.calls = 0


def context() -> dict[str, Any]:
    """The fields bound now (a copy), `api_calls` resolved to a number."""
    fields = dict(_context.get() or {})
    spent = fields.get("api_calls")
    if isinstance(spent, Spent):
        fields["api_calls"] = spent.calls
    return fields


def field(name: str) -> Any:
    """One bound field (None when unbound), without copying the context."""
    return (_context.get() or {}).get(name)


class bound:  # lower-case: used as a function, `with logs.bound(...)`
    """Add `fields` to every line logged inside the block (and in tasks it starts). Yields
    the live mapping, so a field learnt midway (the decision step) can be set on it. A class,
    not a generator: it runs around every delivery and every reconcile."""

    __slots__ = ("fields", "token")

    def __init__(self, **fields: Any) -> None:
        self.fields = fields

    def __enter__(self) -> dict[str, Any]:
        self.fields = {**(_context.get() or {}), **self.fields}  # the context on entering
        self.token = _context.set(self.fields)
        return self.fields

    def __exit__(self, *exc: object) -> None:
        _context.reset(self.token)


def annotate(**fields: Any) -> None:
    """Set fields on the innermost bound block, for what is learnt midway (the pull request a
    delivery turns out to be about)."""
    current = _context.get()
    if current is not None:
        current.update(fields)


def count_api_call() -> None:
    """One GitHub call made for the bound work (when it counts: `bound(api_calls=Spent())`)."""
    spent = (_context.get() or {}).get("api_calls")
    if isinstance(spent, Spent):
        spent.calls += 1


class Redactor:
    """Replaces known secret values and credential-shaped text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Short values would blank out ordinary words; real secrets are long.
        self.secrets.update(s for s in secrets if s and len(s) >= 6)
        if any("\n" in s for s in self.secrets):  # a PEM key: also its lines, one by one
            self.secrets.update(
                line.strip()
                for s in list(self.secrets)
                for line in s.splitlines()
                if len(line.strip()) >= 16 and "-----" not in line
            )
        # As a JSON line writes them too: a quote, backslash or control character (and, in
        # the ASCII fallback, any non-ASCII character) is escaped there.
        escaped = {
            json.dumps(s, ensure_ascii=ascii)[1:-1] for s in self.secrets for ascii in (False, True)
        }
        # longest first, so a secret containing another is replaced whole
        self._ordered = sorted(self.secrets | escaped, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _SECRET_SHAPES.sub(REDACTED, text) if may_hold_secret_shape(text) else text


def may_hold_secret_shape(text: str) -> bool:
    """False only when `_SECRET_SHAPES` cannot match: each of its alternatives needs one of
    these literals. Substring tests are a few times cheaper than the pattern's scan, and
    almost every line (an access line, a decision) contains none of them."""
    return (
        "-----BEGIN " in text
        or "eyJ" in text
        or ("_" in text and ("gh" in text or "github_pat_" in text))
        or ("://" in text and "@" in text)
    )


class _Base(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        found = context()
        extra = getattr(record, "fields", None)
        if isinstance(extra, Mapping):
            found.update(extra)
        return found


# Made once, not per line. msgspec encodes a line several times faster than `json`; what it
# cannot encode (or a string it refuses) goes through `json` with `str()` for unknown values.
_FAST = msgspec.json.Encoder(enc_hook=str)
_JSON = json.JSONEncoder(default=str)  # ASCII: a lone surrogate still writes


def encode(line: dict[str, Any]) -> str:
    try:
        return _FAST.encode(line).decode()
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return _JSON.encode(line)


class _Clock:
    """`2026-12-03T09:12:44.120Z` for a record's time: the part up to the second is formatted
    once per second, not once per line."""

    __slots__ = ("prefix", "second")

    def __init__(self) -> None:
        self.second, self.prefix = -1, ""

    def __call__(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self.second:
            self.prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self.second = second
        return f"{self.prefix}.{int(msecs):03d}Z"


class JsonFormatter(_Base):
    """One JSON object per line: time, level, logger, message, the context fields (always
    present, null when unknown, so every line about a delivery has the same shape), the rest."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(redact)
        self.clock = _Clock()

    def format(self, record: logging.LogRecord) -> str:
        fields = self.fields(record)
        line: dict[str, Any] = {
            "time": self.clock(record.created, record.msecs),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if fields:
            for name in CONTEXT_FIELDS:
                line[name] = fields.pop(name, None)
            line.update(fields)
        if record.exc_info:
            line["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return self.redact(encode(line))


class TextFormatter(_Base):
    """`time level logger message key=value…` with only the fields that are known."""

    def format(self, record: logging.LogRecord) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        text = f"{when} {record.levelname} {record.name} {record.getMessage()}"
        pairs = [f"{k}={v}" for k, v in self.fields(record).items() if v is not None]
        if pairs:
            text += " " + " ".join(pairs)
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return self.redact(text)


def choose_format(env: Mapping[str, str], stream: TextIO) -> str:
    """`FLAGBOT_LOG_FORMAT`, else text on a terminal and JSON otherwise. Raises ValueError
    naming the variable for anything but json or text."""
    wanted = (env.get("FLAGBOT_LOG_FORMAT") or "").strip().lower()
    if not wanted:
        return "text" if stream.isatty() else "json"
    if wanted not in FORMATS:
        raise ValueError(
            f"FLAGBOT_LOG_FORMAT={env['FLAGBOT_LOG_FORMAT']!r} is not a log format: "
            "set it to json or text (or unset it: text on a terminal, json otherwise)"
        )
    return wanted


def configure(
    fmt: str,
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    level: int = logging.INFO,
) -> logging.Handler:
    """Send every logger's lines to `stream` (stderr) in `fmt`, secrets redacted. Replaces
    handlers set up before, so a second call (tests) does not double the lines."""
    redact = Redactor(secrets)
    # Neither format shows where a line was logged from, nor thread or process: the
    # `logging` HOWTO's switches for not collecting them (a frame walk per line, mostly).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = LineHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_flagbot", False)]:
        root.removeHandler(old)
    handler._flagbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that, inside a running event loop, writes the lines of one loop turn
    together at the end of the turn: a service logging a line per delivery makes one write
    call per turn, not one per line (stderr is line-buffered, so flushing less would not be
    enough). Outside a loop (commands, other threads) each line is written and flushed at
    once. A crash loses at most the lines of the turn it happened in; exit flushes
    (`logging.shutdown`)."""

    # a turn that logs more than this writes what it has at once (memory stays bounded)
    MAX_PENDING = 512

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled: asyncio.AbstractEventLoop | None = None  # the loop that will write

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._pending.append(line)  # `handle` holds the handler's lock around `emit`
        if loop is None or len(self._pending) >= self.MAX_PENDING:
            try:
                self._write()
            except (OSError, ValueError):
                self.handleError(record)
        elif self._scheduled is not loop:  # (a loop closed before its turn ended never will)
            self._scheduled = loop
            loop.call_soon(self.flush)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._scheduled = None
            with suppress(OSError, ValueError):  # closed or broken: nowhere left to say so
                self._write()

    def _write(self) -> None:
        text, self._pending = "".join(self._pending), []
        if text:
            self.stream.write(text)
        self.stream.flush()


def secrets_in(env: Mapping[str, str]) -> list[str]:
    """Values of the variables that hold credentials: the webhook secret, tokens, keys,
    passwords, and the channel URLs (a Slack webhook URL is itself a credential)."""
    names = ("SECRET", "TOKEN", "KEY", "PASSWORD")
    return [
        value
        for name, value in env.items()
        if any(n in name for n in names) or (name.startswith("FLAGBOT_") and name.endswith("_URL"))
    ]
