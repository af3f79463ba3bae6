"""The job's GitHub settings: committer identity, connection from the Actions environment."""

import pytest

from bot.rollout.remote import ACTIONS_BOT, Connection, Identity, env_branch


def test_identity_parses_name_and_email():
    assert Identity.parse(" flagbot[bot] <1+flagbot[bot]@users.noreply.github.com> ") == Identity(
        "flagbot[bot]", "1+flagbot[bot]@users.noreply.github.com"
    )
    assert str(ACTIONS_BOT) == (
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    )


@pytest.mark.parametrize("text", ["flagbot", "<a@b.c>", "x <not-an-email>", "a <b@c> d"])
def test_identity_rejects_what_git_would_not_accept(text):
    with pytest.raises(ValueError, match="Name <email>"):
        Identity.parse(text)


def test_connection_from_actions_environment():
    env = {
        "GITHUB_REPOSITORY": "acme/flags",
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": "http://127.0.0.1:9/api/v3",
        "FLAGBOT_WRITE_PAUSE": "0",
        "FLAGBOT_RETRY_BACKOFF": "0.01",
    }
    c = Connection.from_env(env)
    assert (c.repository, c.token, c.api_url) == ("acme/flags", "t", "http://127.0.0.1:9/api/v3")
    assert (c.write_pause, c.request_pause, c.backoff) == (0.0, 0.25, 0.01)
    assert Connection.from_env(env, write_pause=2.0).write_pause == 2.0
    defaults = Connection.from_env({})
    assert (defaults.api_url, defaults.write_pause, defaults.token) == (
        "https://api.github.com",
        1.0,
        None,
    )


def test_connection_rejects_a_non_number_pause():
    with pytest.raises(ValueError, match="FLAGBOT_WRITE_PAUSE"):
        Connection.from_env({"FLAGBOT_WRITE_PAUSE": "soon"})


def test_branch_from_actions_only_for_branch_refs():
    assert env_branch({"GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"}) == "main"
    assert env_branch({"GITHUB_REF_NAME": "v1.0", "GITHUB_REF_TYPE": "tag"}) is None
    assert env_branch({}) is None
