"""Identity: App JWTs, installation tokens and what each may do."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.emulator import Emulator
from tests.emulator_harness import APP_ID, INSTALLATION_ID, REPO, seed_for


def sign(payload: dict, key: str | None = None) -> str:
    emulator_key = key or seed_for()["apps"][0]["private_key"]
    return jwt.encode(payload, emulator_key, algorithm="RS256")


def other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def bearer(emulator: Emulator, method: str, path: str, token: str, body=None):
    return emulator.request(
        method, path, json_body=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_app_jwt_mints_an_installation_token(emulator: Emulator) -> None:
    now = int(time.time())
    token = sign({"iat": now - 60, "exp": now + 500, "iss": str(APP_ID)})
    app = bearer(emulator, "GET", "/app", token)
    assert app.status == 200 and app.body["slug"] == "flagbot"
    minted = bearer(emulator, "POST", f"/app/installations/{INSTALLATION_ID}/access_tokens", token)
    assert minted.status == 201
    assert minted.body["permissions"]["checks"] == "write"
    inst = minted.body["token"]
    me = bearer(emulator, "GET", f"/repos/{REPO}/installation", token)
    assert me.body["id"] == INSTALLATION_ID and me.body["app_slug"] == "flagbot"
    repos = emulator.request("GET", "/installation/repositories", token=inst)
    assert [r["full_name"] for r in repos.body["repositories"]] == [REPO]
    assert emulator.request("GET", "/user", token=inst).status == 403  # not a user


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iat": -700, "exp": -100}, "'Expiration time' claim ('exp') must be"),
        ({"iat": -60, "exp": 3600}, "too far in the future"),
        ({"iat": -60, "exp": 500, "iss": "999"}, "could not be decoded"),
    ],
)
def test_bad_jwts_are_refused(emulator: Emulator, claims: dict, message: str) -> None:
    now = int(time.time())
    payload = {"iss": str(APP_ID), **claims}
    payload["iat"] = now + claims["iat"]
    payload["exp"] = now + claims["exp"]
    result = bearer(emulator, "GET", "/app", sign(payload))
    assert result.status == 401 and message in result.body["message"]


def test_jwt_signed_with_another_key_is_refused(emulator: Emulator) -> None:
    now = int(time.time())
    token = sign({"iat": now - 60, "exp": now + 500, "iss": str(APP_ID)}, other_key())
    assert bearer(emulator, "GET", "/app", token).status == 401


def test_installation_tokens_expire_after_an_hour(emulator: Emulator) -> None:
    token = emulator.installation_token(INSTALLATION_ID)
    assert emulator.request("GET", f"/repos/{REPO}", token=token).status == 200
    emulator.dispatcher.auth_time = lambda: time.time() + 3601
    assert emulator.request("GET", f"/repos/{REPO}", token=token).status == 401


def test_narrowed_installation_token_loses_permissions(emulator: Emulator) -> None:
    jwt_token = emulator.app_jwt(APP_ID)
    minted = bearer(
        emulator,
        "POST",
        f"/app/installations/{INSTALLATION_ID}/access_tokens",
        jwt_token,
        {"permissions": {"contents": "read"}},
    )
    token = minted.body["token"]
    sha = emulator.repo(REPO).git.branch("main")
    refused = emulator.request(
        "POST", f"/repos/{REPO}/check-runs", token=token, json_body={"name": "x", "head_sha": sha}
    )
    assert (refused.status, refused.body["message"]) == (
        403,
        "Resource not accessible by integration",
    )
    too_much = bearer(
        emulator,
        "POST",
        f"/app/installations/{INSTALLATION_ID}/access_tokens",
        jwt_token,
        {"permissions": {"administration": "write"}},
    )
    assert too_much.status == 422


def test_jwt_is_not_accepted_on_repository_endpoints(emulator: Emulator) -> None:
    assert bearer(emulator, "GET", f"/repos/{REPO}/pulls", emulator.app_jwt(APP_ID)).status == 403


def test_installation_limited_to_selected_repositories() -> None:
    seed = seed_for()
    seed["repos"].append({"full_name": "acme/other", "private": True, "files": {"a": "b"}})
    seed["apps"][0]["installations"][0]["repositories"] = ["acme/flags"]
    emulator = Emulator.from_seed(seed)
    token = emulator.installation_token(INSTALLATION_ID)
    assert emulator.request("GET", "/repos/acme/flags", token=token).status == 200
    assert emulator.request("GET", "/repos/acme/other", token=token).status == 404


def test_recorder_writes_every_call_as_json_lines(tmp_path) -> None:
    path = tmp_path / "calls.jsonl"
    emulator = Emulator.from_seed(seed_for(), record_to=path)
    emulator.request("GET", f"/repos/{REPO}", login="dev")
    emulator.request("GET", f"/repos/{REPO}/pulls/9", login="dev")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(x["route"], x["status"]) for x in lines] == [
        ("/repos/{owner}/{repo}", 200),
        ("/repos/{owner}/{repo}/pulls/{pull_number}", 404),
    ]
    assert lines[0]["response_json"]["full_name"] == REPO
