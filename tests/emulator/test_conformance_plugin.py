"""The conformance plugin fails whichever test made the local GitHub break GitHub's contract,
in whichever phase, and says where; a test may opt out only by saying why."""

from __future__ import annotations

import pytest

from tests.conftest import vendor_path

INNER = '''
import pytest

from bot.emulator import Emulator
from bot.emulator.render import hooks
from bot.emulator.routes import pulls as pull_routes
from tests.emulator_harness import REPO, seed_for


def number_as_text(monkeypatch, where: str) -> None:
    """Make pull requests carry a string `number`, in the API or in webhooks."""
    if where == "api":
        real = pull_routes.pull_request
        monkeypatch.setattr(
            pull_routes, "pull_request", lambda *a, **k: {**real(*a, **k), "number": "one"}
        )
    else:
        real_hook = hooks.pull_request

        def hook(*args, **kwargs):
            out = real_hook(*args, **kwargs)
            out["pull_request"] = {**out["pull_request"], "number": "one"}
            return out

        monkeypatch.setattr(hooks, "pull_request", hook)


@pytest.fixture
def broken(monkeypatch):
    number_as_text(monkeypatch, "api")
    emulator = Emulator.from_seed(seed_for())
    emulator.person("dev").propose(REPO, {"a.txt": "a"}, branch="a", title="A")
    return emulator


@pytest.fixture
def called_in_setup(broken):
    broken.request("GET", f"/repos/{REPO}/pulls/1", login="dev")


def test_webhook_violation(monkeypatch):
    number_as_text(monkeypatch, "webhook")
    emulator = Emulator.from_seed(seed_for())
    emulator.add_webhook("http://127.0.0.1:9/never-served", "s3cret")
    emulator.person("dev").propose(REPO, {"a.txt": "a"}, branch="a", title="A")


def test_a_conformant_emulator_passes():
    emulator = Emulator.from_seed(seed_for())
    emulator.add_webhook("http://127.0.0.1:9/never-served", "s3cret")
    emulator.person("dev").propose(REPO, {"a.txt": "a"}, branch="a", title="A")
    assert emulator.request("GET", f"/repos/{REPO}/pulls/1", login="dev").ok


def test_api_violation(broken):
    assert broken.request("GET", f"/repos/{REPO}/pulls/1", login="dev").ok


def test_violation_in_setup(called_in_setup):
    pass


def test_violation_beside_a_failure(broken):
    broken.request("GET", f"/repos/{REPO}/pulls/1", login="dev")
    assert False, "the test's own failure"


@pytest.mark.github_conformance_exempt("shows the opt-out")
def test_exempt(broken):
    broken.request("GET", f"/repos/{REPO}/pulls/1", login="dev")
'''


def test_violations_fail_the_test_that_caused_them(pytester: pytest.Pytester) -> None:
    vendor_path("github-rest-subset.json")
    vendor_path("octokit-webhooks", "payload-schemas")
    pytester.makepyfile(test_inner=INNER)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_inprocess("-p", "tests.conformance.plugin")
    result.assert_outcomes(passed=2, failed=3, errors=1)
    api = (
        "*GET /repos/{owner}/{repo}/pulls/{pull_number} -> 200: response body at /number: "
        "'one' is not of type 'integer'"
    )
    hook = "*webhook pull_request.opened: payload at /pull_request/number: 'one' is not of type*"
    result.stdout.fnmatch_lines(["*_ test_api_violation _*", "[[]call[]] the local GitHub*", api])
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_violation_in_setup*", "[[]setup[]]*", api]
    )
    result.stdout.fnmatch_lines(["*_ test_webhook_violation _*", "[[]call[]]*", hook])
    result.stdout.fnmatch_lines(
        [
            "*_ test_violation_beside_a_failure _*",
            "*the test's own failure*",
            "*GitHub conformance*",
            api,
        ]
    )
    assert "test_exempt" not in "\n".join(
        line for line in result.outlines if line.startswith(("FAILED", "ERROR"))
    )
