"""Prometheus guards against a REAL Prometheus server scraping an exporter this test controls.

Under the threshold the walk proceeds; above it the next run pauses with exactly one commit and
one notice; a query with no data holds; Prometheus down holds and never bumps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from tests.rollout.guarding import POLICY_WITH_CHANNEL, Recorder, guarded_flow
from tests.rollout.harness import harness
from tests.rollout.promserver import BINARY, SKIP_REASON, free_port, prometheus
from tests.rollout.test_job_github import FLOW_PATH, flow_at

needs_prometheus = pytest.mark.skipif(BINARY is None, reason=SKIP_REASON)

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
RATIO = "checkout_error_ratio"
GUARD = """\
guard:
  checks:
    - prometheus: {url_env: FLAGBOT_PROMETHEUS_URL, query: 'max(checkout_error_ratio)', max: 0.02}
"""


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    """(the exporter's gauge, the running Prometheus)."""
    prometheus_client = pytest.importorskip("prometheus_client")
    registry = prometheus_client.CollectorRegistry()
    gauge = prometheus_client.Gauge(RATIO, "share of checkouts that fail", registry=registry)
    port = free_port()
    server, thread = prometheus_client.start_http_server(port, "127.0.0.1", registry=registry)
    try:
        with prometheus(tmp_path_factory.mktemp("prometheus"), port) as prom:
            yield gauge, prom
    finally:
        server.shutdown()
        thread.join(timeout=10)


def set_ratio(metrics, value: float) -> None:
    gauge, prom = metrics
    gauge.set(value)
    prom.wait_for(
        f"max({RATIO})", lambda r: bool(r) and abs(float(r[0]["value"][1]) - value) < 1e-9
    )


def rollout_of(h) -> dict:
    return yaml.safe_load(h.file(FLOW_PATH))["rollout"]


@needs_prometheus
def test_under_the_threshold_walks_above_it_pauses_once(metrics, tmp_path):
    _, prom = metrics
    env = {"FLAGBOT_PROMETHEUS_URL": prom.url}
    files = {FLOW_PATH: guarded_flow(5, T0, GUARD), ".github/flagbot.yml": POLICY_WITH_CHANNEL}
    with harness(files, tmp_path, clock=T0) as h:
        set_ratio(metrics, 0.01)
        notes = Recorder()
        report = h.run(T0 + HOUR, env=env, notifier=notes)
        assert [r.outcome for r in report.results] == ["bumped"]
        [outcome] = report.guards[FLOW_PATH].outcomes
        assert (outcome.verdict, outcome.value, outcome.threshold) == ("pass", "0.01", "<= 0.02")
        assert rollout_of(h)["percentage"] == 25

        set_ratio(metrics, 0.07)
        start = h.head()
        report = h.run(T0 + HOUR + 15 * MINUTE, env=env, notifier=notes)  # not due: still watched
        [result] = report.results
        assert result.outcome == "paused"
        [c] = h.commits_since(start)
        assert c.title == (
            "rollout: new_checkout_flow paused at 25% "
            "(guard prometheus max(checkout_error_ratio): 0.07, needs <= 0.02)"
        )
        r = rollout_of(h)
        assert (r["percentage"], r["paused"]) == (25, True)
        assert "0.07, needs <= 0.02" in r["paused_reason"]
        [notice] = notes.notices
        assert notice.records[0]["guards"] == [
            {
                "guard": "prometheus max(checkout_error_ratio)",
                "value": "0.07",
                "threshold": "<= 0.02",
            }
        ]
        # The next run: paused, nothing more is written or sent.
        assert h.run(T0 + 3 * HOUR, env=env, notifier=notes).results == []
        assert len(h.commits_since(start)) == 1 and len(notes.notices) == 1


@needs_prometheus
def test_no_data_holds(metrics, tmp_path):
    _, prom = metrics
    guard = GUARD.replace("max(checkout_error_ratio)", "max(checkout_latency_seconds)")
    files = {FLOW_PATH: guarded_flow(5, T0, guard), ".github/flagbot.yml": POLICY_WITH_CHANNEL}
    with harness(files, tmp_path, clock=T0) as h:
        start = h.head()
        [result] = h.run(T0 + HOUR, env={"FLAGBOT_PROMETHEUS_URL": prom.url}).results
        assert result.outcome == "held" and result.action.due
        assert "no data" in result.detail and "returned no samples" in result.detail
        assert h.commits_since(start) == []


def test_prometheus_down_holds_and_never_bumps(tmp_path):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    files = {FLOW_PATH: guarded_flow(5, T0, GUARD), ".github/flagbot.yml": POLICY_WITH_CHANNEL}
    with harness(files, tmp_path, clock=T0) as h:
        start = h.head()
        for hours in (1, 2, 3):
            [result] = h.run(T0 + hours * HOUR, env={"FLAGBOT_PROMETHEUS_URL": down}).results
            assert result.outcome == "held"
            assert "no answer" in result.detail
        assert h.commits_since(start) == [] and rollout_of(h)["percentage"] == 5


@needs_prometheus
def test_a_query_prometheus_rejects_holds(metrics, tmp_path):
    _, prom = metrics
    guard = GUARD.replace("max(checkout_error_ratio)", "max(checkout_error_ratio")
    files = {FLOW_PATH: guarded_flow(5, T0, guard), ".github/flagbot.yml": POLICY_WITH_CHANNEL}
    with harness(files, tmp_path, clock=T0) as h:
        [result] = h.run(T0 + HOUR, env={"FLAGBOT_PROMETHEUS_URL": prom.url}).results
        assert result.outcome == "held" and "HTTP 400" in result.detail


FOLDED_GUARD = """\
guard:
  checks:
    - prometheus:
        url_env: FLAGBOT_PROMETHEUS_URL
        max: 0.02
        query: >-
          max(checkout_error_ratio)
"""


@needs_prometheus
@pytest.mark.parametrize(("ratio", "outcome"), [(0.01, "bumped"), (0.07, "paused")])
def test_a_folded_query_ending_the_rollout_block_is_bumped_or_paused(
    metrics, tmp_path, ratio, outcome
):
    """A long query written as a block scalar, last in the rollout block with a key after it,
    and no stage record yet (the percentage came from a merge): the edit lands in the block."""
    _, prom = metrics
    tags = "tags: [checkout, payments, web]\n"
    text = flow_at(5, None).replace(tags, "")
    text += "".join(f"  {line}\n" for line in FOLDED_GUARD.splitlines()) + tags
    files = {FLOW_PATH: text, ".github/flagbot.yml": POLICY_WITH_CHANNEL}
    with harness(files, tmp_path, clock=T0) as h:
        set_ratio(metrics, ratio)
        [result] = h.run(T0 + HOUR, env={"FLAGBOT_PROMETHEUS_URL": prom.url}).results
        assert result.outcome == outcome, result.detail
        r = rollout_of(h)
        assert r["guard"]["checks"][0]["prometheus"]["query"] == "max(checkout_error_ratio)"
        assert r["percentage"] == (25 if outcome == "bumped" else 5)
        assert r.get("paused", False) is (outcome == "paused")
        assert yaml.safe_load(h.file(FLOW_PATH))["tags"] == ["checkout", "payments", "web"]
