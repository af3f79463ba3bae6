import random

from bot.gh.retry import RetryPolicy, retry_delay

P = RetryPolicy(attempts=5, base=0.5, cap=4, max_wait=120, secondary_default=60)
RNG = random.Random(1)


def d(status, headers=None, attempt=1, now=1000.0, message=""):
    return retry_delay(status, headers or {}, attempt, now, P, message=message, rng=RNG)


def test_server_errors_back_off_with_jitter_within_cap():
    for attempt in range(1, 5):
        wait = d(502, attempt=attempt)
        assert wait is not None and 0 <= wait <= min(4, 0.5 * 2 ** (attempt - 1))


def test_connection_errors_are_retried():
    assert d(None) is not None


def test_gives_up_after_attempts():
    assert d(500, attempt=5) is None


def test_client_errors_are_not_retried():
    for status in (400, 401, 404, 405, 409, 422):
        assert d(status) is None


def test_retry_after_is_honoured_for_429_and_secondary_403():
    assert 3 <= d(429, {"retry-after": "3"}) <= 4
    assert 2 <= d(403, {"retry-after": "2"}) <= 3


def test_primary_limit_waits_until_reset():
    wait = d(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"}, now=1000.0)
    assert 11 <= wait <= 13


def test_secondary_limit_without_header_waits_a_minute():
    wait = d(403, message="You have exceeded a secondary rate limit")
    assert 60 <= wait <= 62


def test_waits_beyond_max_are_abandoned():
    assert d(429, {"retry-after": "3600"}) is None
    assert d(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "99999"}) is None


def test_plain_forbidden_is_not_retried():
    assert d(403, message="Resource not accessible by integration") is None
