"""The request-path checks: each one refuses without side effects."""

import hashlib
import hmac

import pytest
from multidict import CIMultiDict

from bot.service.intake import Accepted, Rejected, check_delivery

SECRET = "s3cret"
BODY = b'{"action": "opened", "number": 1}'


def sign(body: bytes, secret: str = SECRET, algo=hashlib.sha256, prefix="sha256=") -> str:
    return prefix + hmac.new(secret.encode(), body, algo).hexdigest()


def headers(**overrides):
    h = CIMultiDict(
        {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "d-1",
            "X-Hub-Signature-256": sign(BODY),
            "Content-Type": "application/json",
        }
    )
    for k, v in overrides.items():
        k = k.replace("_", "-")
        if v is None:
            h.popall(k, None)
        else:
            h[k] = v
    return h


def check(h, body=BODY, max_body=1024):
    return check_delivery(h, body, SECRET, max_body)


def test_valid_delivery_is_accepted():
    assert check(headers()) == Accepted("pull_request", "d-1", BODY, "application/json")


def test_github_docs_signature_vector():
    # docs: "Validating webhook deliveries" test values.
    body = b"Hello, World!"
    sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(body, "It's a Secret to Everybody") == sig


def test_lowercase_header_names_work():
    h = CIMultiDict({k.lower(): v for k, v in headers().items()})
    assert isinstance(check(h), Accepted)


@pytest.mark.parametrize(
    ("h", "status"),
    [
        (headers(X_Hub_Signature_256=None), 401),
        (headers(X_Hub_Signature_256=sign(BODY, "wrong")), 401),
        (headers(X_Hub_Signature_256=sign(BODY, algo=hashlib.sha1, prefix="sha1=")), 401),
        (headers(X_Hub_Signature_256="md5=abc"), 401),
        (headers(X_GitHub_Event=None), 400),
        (headers(X_GitHub_Delivery=None), 400),
        (headers(Content_Type="text/plain"), 415),
    ],
)
def test_refusals(h, status):
    result = check(h)
    assert isinstance(result, Rejected) and result.status == status


def test_sha1_only_is_refused_even_if_correct():
    h = headers(
        X_Hub_Signature_256=None, X_Hub_Signature=sign(BODY, algo=hashlib.sha1, prefix="sha1=")
    )
    assert check(h).status == 401


def test_oversized_body_is_refused_before_hashing():
    big = b"{" + b" " * 2000 + b"}"
    assert check(headers(X_Hub_Signature_256=sign(big)), big).status == 413


def test_signed_non_json_is_refused():
    body = b"not json"
    assert check(headers(X_Hub_Signature_256=sign(body)), body).status == 400


def test_json_object_shape_check_without_copying():
    from bot.service.intake import _looks_like_object

    assert _looks_like_object(b"{}") and _looks_like_object(b' \n{"a": 1}\r\n ')
    for body in (b"", b"   ", b"{", b"}", b"[1]", b"}{", b'"{}"'):
        assert not _looks_like_object(body), body


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "é" * 64,  # the constant-time comparison raises on non-ASCII text
        "sha256=ü",
        "sha256=" + "g" * 64,
        "sha256=" + "a" * 63,
        "sha256",
        "=",
        " sha256=" + "0" * 64,
    ],
)
def test_malformed_signature_headers_are_401_never_an_exception(signature):
    result = check(headers(X_Hub_Signature_256=signature))
    assert isinstance(result, Rejected) and result.status == 401
