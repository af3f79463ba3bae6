"""GitHub's page-number pagination: `per_page` (default 30, at most 100), `page`, and a `Link`
header with `first`/`prev`/`next`/`last` built on the address the caller used."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from bot.emulator.api.router import Request, Response
from bot.emulator.errors import ApiError

T = TypeVar("T")
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def page_args(req: Request) -> tuple[int, int]:
    try:
        per_page = int(req.query.get("per_page", DEFAULT_PER_PAGE))
        page = int(req.query.get("page", 1))
    except ValueError:
        raise ApiError(400, "Invalid page or per_page parameter") from None
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    return max(page, 1), per_page


def link_header(req: Request, page: int, last: int) -> str | None:
    if last <= 1 and page <= 1:
        return None

    def url(n: int) -> str:
        query = dict(req.query)
        query["page"] = str(n)
        return f"{req.base}{req.path}?{urlencode(query)}"

    links = []
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
    return ", ".join(links) or None


def slice_page(req: Request, items: Sequence[T]) -> tuple[list[T], str | None]:
    page, per_page = page_args(req)
    last = max(1, -(-len(items) // per_page))
    start = (page - 1) * per_page
    return list(items[start : start + per_page]), link_header(req, page, last)


def paginated(
    req: Request, items: Sequence[Any], render=lambda x: x, key: str | None = None, **extra: Any
) -> Response:
    """A page of `items` as a JSON list (or `{key: [...], "total_count": n, **extra}`)."""
    chunk, link = slice_page(req, items)
    rendered = [render(x) for x in chunk]
    body: Any = rendered if key is None else {"total_count": len(items), key: rendered, **extra}
    headers = {"Link": link} if link else {}
    return Response(200, body, headers)
