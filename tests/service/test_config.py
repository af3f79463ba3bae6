import pytest

from bot.service.config import ConfigError, ServiceConfig


def test_refuses_to_start_without_a_secret():
    with pytest.raises(ConfigError, match="FLAGBOT_WEBHOOK_SECRET"):
        ServiceConfig.from_env({"GITHUB_TOKEN": "t"})


def test_token_mode():
    c = ServiceConfig.from_env({"FLAGBOT_WEBHOOK_SECRET": "s", "GITHUB_TOKEN": "t"})
    assert (c.token, c.app_id, c.api_url) == ("t", None, "https://api.github.com")


def test_app_mode_from_key_file(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\n...")
    c = ServiceConfig.from_env(
        {
            "FLAGBOT_WEBHOOK_SECRET": "s",
            "GITHUB_APP_ID": "42",
            "GITHUB_APP_PRIVATE_KEY_PATH": str(key),
            "GITHUB_API_URL": "http://127.0.0.1:9999/",
        }
    )
    assert c.app_id == "42" and c.private_key.startswith("-----BEGIN")
    assert c.api_url == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"GITHUB_APP_ID": "1"}, "GITHUB_APP_PRIVATE_KEY"),
        ({"GITHUB_APP_PRIVATE_KEY": "k"}, "GITHUB_APP_ID is not"),
        ({}, "no GitHub credentials"),
        ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_PATH": "/nonexistent"}, "cannot be read"),
    ],
)
def test_incomplete_credentials(env, match):
    with pytest.raises(ConfigError, match=match):
        ServiceConfig.from_env({"FLAGBOT_WEBHOOK_SECRET": "s", **env})


def test_sweep_interval_and_drain_timeout():
    base = {"FLAGBOT_WEBHOOK_SECRET": "s", "GITHUB_TOKEN": "t"}
    c = ServiceConfig.from_env(base)
    assert (c.sweep_interval, c.drain_timeout) == (600.0, 25.0)
    c = ServiceConfig.from_env(
        {**base, "FLAGBOT_SWEEP_INTERVAL": "1h30m", "FLAGBOT_DRAIN_TIMEOUT": "40"}
    )
    assert (c.sweep_interval, c.drain_timeout) == (5400.0, 40.0)
    assert ServiceConfig.from_env({**base, "FLAGBOT_SWEEP_INTERVAL": "0"}).sweep_interval == 0
    with pytest.raises(ConfigError, match="FLAGBOT_SWEEP_INTERVAL='soon' is not a duration"):
        ServiceConfig.from_env({**base, "FLAGBOT_SWEEP_INTERVAL": "soon"})


def test_commands_without_webhooks_need_no_secret():
    assert ServiceConfig.from_env({"GITHUB_TOKEN": "t"}, webhooks=False).token == "t"
