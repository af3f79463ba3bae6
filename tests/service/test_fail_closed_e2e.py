"""Issue #9 end to end (flagbot and the local GitHub over HTTP): no flag pull request merges
without the approvals its files need, whatever path it takes."""

import asyncio
import logging
from urllib.parse import urlsplit


async def raw_post(url: str, head: bytes, body: bytes) -> tuple[int, bytes]:
    """One HTTP request written byte for byte, so a header can hold what no client library
    would send."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()
        + head
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    response = await reader.read()
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]


async def test_a_non_ascii_signature_header_is_401_with_one_log_line(harness, caplog):
    body = b'{"action": "opened", "number": 1}'
    head = (
        b"X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: d-9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-Hub-Signature-256: sha256=" + "é".encode() * 32 + b"\r\n"
    )
    with caplog.at_level(logging.INFO):
        status, answer = await raw_post(harness.bot_url, head, body)
    assert status == 401 and b"sha256=" in answer
    lines = [r for r in caplog.records if "refused a delivery" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert not any(r.exc_info for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
