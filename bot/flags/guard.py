"""`rollout.guard`: what must stay healthy while a staged rollout walks, and what to do if not.

Flag files and `flagbot.yml` (the default for every flag) write the same block:

    guard:
      on_failure: pause        # or rollback: back one stage, then paused
      checks:
        - check: "synthetics / checkout"
        - prometheus: {url_env: FLAGBOT_PROMETHEUS_URL, query: '...', max: 0.02}
        - http: {url_env: CHECKOUT_HEALTH_URL, expect: 200}

Addresses and credentials are never written here, only the names of the environment variables
that hold them (the repository is readable by everyone who can read the flags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from bot.yamlfields import Fields, label
from bot.yamlsafe import Path, describe

OnFailure = Literal["pause", "rollback"]
ON_FAILURE: tuple[OnFailure, ...] = get_args(OnFailure)
GUARD_FIELDS = ("on_failure", "checks")
GUARD_KINDS = ("check", "prometheus", "http")
PROMETHEUS_FIELDS = ("url_env", "query", "max", "min", "token_env")
HTTP_FIELDS = ("url_env", "expect", "token_env")
SECRET_KEYS = ("url", "token", "password", "secret", "headers", "auth", "authorization")
ENV_VAR_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class CheckGuard:
    """A check run or commit status of this name on the default branch's head must succeed."""

    name: str

    @property
    def title(self) -> str:
        return f"check {self.name!r}"


@dataclass(frozen=True, slots=True)
class PrometheusGuard:
    """An instant query whose single value must stay within [min, max]."""

    url_env: str
    query: str
    max: float | None = None
    min: float | None = None
    token_env: str | None = None

    @property
    def title(self) -> str:
        return f"prometheus {self.query}"

    @property
    def threshold(self) -> str:
        parts = ([f">= {self.min:g}"] if self.min is not None else []) + (
            [f"<= {self.max:g}"] if self.max is not None else []
        )
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class HttpGuard:
    """A GET of the URL in `url_env` must answer with status `expect`."""

    url_env: str
    expect: int = 200
    token_env: str | None = None

    @property
    def title(self) -> str:
        return f"http ${self.url_env}"


Check = CheckGuard | PrometheusGuard | HttpGuard


@dataclass(frozen=True, slots=True)
class Guard:
    on_failure: OnFailure = "pause"
    checks: tuple[Check, ...] = ()


NO_GUARD = Guard()


def read_guard(f: Fields, value: Any, where: Path, default: Guard = NO_GUARD) -> Guard | None:
    """The block at `where`; keys it leaves out come from `default` (flagbot.yml's guard)."""
    m = f.mapping(value, where)
    if m is None:
        return None
    f.known_keys(m, where, GUARD_FIELDS)
    on_failure = (
        f.choice(m["on_failure"], (*where, "on_failure"), ON_FAILURE)
        if "on_failure" in m
        else default.on_failure
    )
    checks = _checks(f, m["checks"], (*where, "checks")) if "checks" in m else default.checks
    if on_failure is None or checks is None:
        return None
    return Guard(on_failure, checks)  # type: ignore[arg-type]


def _checks(f: Fields, value: Any, where: Path) -> tuple[Check, ...] | None:
    items = f.sequence(value, where)
    if items is None:
        return None
    out: list[Check] = []
    ok = True
    for i, item in enumerate(items):
        check = _check(f, item, (*where, i))
        ok = ok and check is not None
        if check is not None:
            out.append(check)
    return tuple(out) if ok else None


def _check(f: Fields, item: Any, where: Path) -> Check | None:
    m = f.mapping(item, where)
    if m is None:
        return None
    kinds = [k for k in m if k in GUARD_KINDS]
    if len(kinds) != 1 or len(m) != 1:
        f.known_keys(m, where, GUARD_KINDS)  # an unknown kind: its message lists the known ones
        if len(kinds) > 1 or not m:
            f.error(
                where,
                f"{label(where)} must be exactly one of check: NAME, prometheus: {{...}} or "
                "http: {...}",
                "guard-kind",
                key=True,
            )
        return None
    kind = kinds[0]
    at = (*where, kind)
    if kind == "check":
        name = f.string(m[kind], at)
        return CheckGuard(name) if name is not None else None
    spec = f.mapping(m[kind], at)
    if spec is None:
        return None
    _no_secrets(f, spec, at)
    allowed = PROMETHEUS_FIELDS if kind == "prometheus" else HTTP_FIELDS
    f.known_keys({k: v for k, v in spec.items() if k not in SECRET_KEYS}, at, allowed)
    before = len(f.diagnostics)
    url_env = _required_env(f, spec, at)
    token_env = _env_var(f, spec["token_env"], (*at, "token_env")) if "token_env" in spec else None
    if kind == "prometheus":
        return _prometheus(f, spec, at, url_env, token_env, before)
    expect = spec.get("expect", 200)
    if isinstance(expect, bool) or not isinstance(expect, int) or not 100 <= expect <= 599:
        f.error(
            (*at, "expect"),
            f"{label((*at, 'expect'))} must be an HTTP status code such as 200, got "
            f"{describe(expect)}",
            "out-of-range",
        )
    if len(f.diagnostics) > before or url_env is None:
        return None
    return HttpGuard(url_env, expect, token_env)


def _prometheus(
    f: Fields,
    spec: dict[Any, Any],
    at: Path,
    url_env: str | None,
    token_env: str | None,
    before: int,  # diagnostics before this check: more now means it is invalid
) -> PrometheusGuard | None:
    query = None
    if "query" not in spec:
        f.error(
            at, f"{label(at)} needs `query:` (a PromQL instant query)", "missing-field", key=True
        )
    else:
        query = f.string(spec["query"], (*at, "query"))
    bounds = {k: f.number(spec[k], (*at, k)) for k in ("min", "max") if k in spec}
    if not bounds:
        f.error(
            at,
            f"{label(at)} needs `max:` or `min:` (or both): the bound the query's value must keep",
            "missing-field",
            key=True,
        )
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None and low > high:
        f.error((*at, "min"), f"{label((*at, 'min'))} {low} is above max {high}", "out-of-range")
    if len(f.diagnostics) > before or url_env is None or query is None:
        return None
    return PrometheusGuard(
        url_env,
        query,
        float(high) if high is not None else None,
        float(low) if low is not None else None,
        token_env,
    )


def _no_secrets(f: Fields, spec: dict[Any, Any], at: Path) -> None:
    for key in spec:
        if key in SECRET_KEYS:
            f.error(
                (*at, key),
                "do not write URLs or credentials in the repository (everyone who can read it "
                "sees them): put it in an environment variable where the job runs and name the "
                "variable, e.g. url_env: FLAGBOT_PROMETHEUS_URL or token_env: "
                "FLAGBOT_PROMETHEUS_TOKEN",
                "secret-in-file",
                key=True,
            )


def _required_env(f: Fields, spec: dict[Any, Any], at: Path) -> str | None:
    if "url_env" not in spec and not any(k in SECRET_KEYS for k in spec):
        f.error(
            at,
            f"{label(at)} needs `url_env:` naming the environment variable that holds the URL",
            "missing-field",
            key=True,
        )
        return None
    return _env_var(f, spec["url_env"], (*at, "url_env")) if "url_env" in spec else None


def _env_var(f: Fields, value: Any, where: Path) -> str | None:
    name = f.string(value, where)
    if name is None:
        return None
    if "://" in name or "@" in name:
        f.error(
            where,
            f"{label(where)} names an environment variable (like FLAGBOT_PROMETHEUS_URL), not "
            "the URL itself: put the URL in that variable where the rollout job runs",
            "secret-in-file",
        )
        return None
    if not ENV_VAR_PATTERN.fullmatch(name):
        f.error(
            where,
            f"{label(where)} {name!r} is not an environment variable name (letters, digits "
            "and _, not starting with a digit)",
            "bad-format",
        )
        return None
    return name


def describe_guard(guard: Guard) -> str:
    """One line for tables: `check 'x'; prometheus ... <= 0.02; http $X 200 → pause`."""
    if not guard.checks:
        return "-"
    parts = []
    for c in guard.checks:
        if isinstance(c, PrometheusGuard):
            parts.append(f"prometheus {c.threshold}")
        elif isinstance(c, HttpGuard):
            parts.append(f"http ${c.url_env} {c.expect}")
        else:
            parts.append(c.title)
    return "; ".join(parts) + f" → {guard.on_failure}"
