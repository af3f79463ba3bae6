"""Transport-neutral requests and responses, and a router keyed by GitHub's route templates.

Routes are registered with the OpenAPI path templates (`/repos/{owner}/{repo}/pulls/{pull_number}`)
so the call log, faults and a conformance suite all speak GitHub's names. Parameters that may
contain `/` (`path`, `ref`, `basehead`, `branch`) match greedily; routes are tried in the order
they were registered, so specific ones go first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from bot.emulator.errors import ApiError

if TYPE_CHECKING:
    from bot.emulator.auth import Actor
    from bot.emulator.world import World

GREEDY = frozenset({"path", "ref", "basehead", "branch"})
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class Request:
    method: str
    path: str  # raw (percent-encoded) path, no query
    query: dict[str, str]
    headers: Mapping[str, str]  # case-insensitive mapping
    body: bytes
    base: str  # scheme://host:port the caller used
    params: dict[str, str] = field(default_factory=dict)
    actor: Actor | None = None
    transport: str = "http"
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    def json(self) -> Any:
        """The JSON body (None when empty); 400 "Problems parsing JSON" like GitHub."""
        if not self._parsed:
            self._parsed = True
            if self.body.strip():
                try:
                    self._json = json.loads(self.body)
                except (ValueError, UnicodeDecodeError):
                    raise ApiError(400, "Problems parsing JSON") from None
        return self._json

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ApiError(400, "Problems parsing JSON")
        return data

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(404, "Not Found") from None


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def ok(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(status, body, dict(headers))


def created(body: dict[str, Any]) -> Response:
    """201 with GitHub's `Location` header: the new resource's API URL (its `url` field)."""
    return Response(201, body, {"Location": body["url"]})


def no_content() -> Response:
    return Response(204, None)


Handler = Callable[["World", Request], Response]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    charged: bool = True  # counts against the rate-limit budget

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def _compile(template: str) -> re.Pattern[str]:
    out = []
    pos = 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(1)
        out.append(f"(?P<{name}>.+)" if name in GREEDY else f"(?P<{name}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "/?$")


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, charged: bool = True) -> None:
        self.routes.append(Route(method.upper(), template, _compile(template), handler, charged))

    def route(
        self, method: str, template: str, *, charged: bool = True
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.add(method, template, handler, charged=charged)
            return handler

        return decorate

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for route in self.routes:
            m = route.pattern.match(raw_path)
            if m is None:
                continue
            if route.method != method.upper():
                allowed = True
                continue
            return route, {k: unquote(v) for k, v in m.groupdict().items()}
        if allowed:
            raise ApiError(404, "Not Found")
        raise ApiError(404, "Not Found")

    def templates(self) -> list[str]:
        return [r.key for r in self.routes]
