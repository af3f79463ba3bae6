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
