"""Transport failures in a few plain words.

requests and urllib3 wrap the cause several times ("HTTPConnectionPool(host=…): Max retries
exceeded … (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x…>: …
[Errno 111] Connection refused'))"); a person needs the last three words.
"""

from __future__ import annotations

import errno
import os
import socket


def transport_reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 failure in a few words ("Connection
    refused", "Name or service not known"), not urllib3's nested reprs."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return str(current.strerror or current)
        number = getattr(current, "errno", None)
        if isinstance(number, int) and number in errno.errorcode:
            return os.strerror(number)
        nested = [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)
        current = (
            reason
            if isinstance(reason, BaseException)
            else nested[0]
            if nested
            else current.__cause__ or current.__context__
        )
    text = str(exc)
    for hint in ("Name or service not known", "Connection refused", "timed out"):
        if hint in text:
            return hint
    return type(exc).__name__
