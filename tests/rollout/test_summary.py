"""The job summary table and where it goes; `flagbot guard KEY` prints each outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cli import main
from bot.rollout.checkout import read_checkout
from bot.rollout.job import JobOptions, run_job
from bot.rollout.summary import render
from tests.rollout.guarding import guarded_flow, health_endpoint
from tests.rollout.test_job_github import flow_at

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = 'roles: {manager: ["@acme/eng-managers"], qa: ["@acme/qa"]}\n'
HTTP = "guard:\n  checks:\n    - http: {url_env: HEALTH_URL}\n"


def repo(tmp_path, files):
    for path, text in {**files, ".github/flagbot.yml": POLICY}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return tmp_path


def test_summary_lists_every_flag_in_progress_with_guards_and_action(tmp_path):
    root = repo(
        tmp_path,
        {
            "flags/a.yaml": guarded_flow(25, T0, HTTP),
            "flags/b.yaml": flow_at(50, T0 + HOUR),  # not due
            "flags/done.yaml": flow_at(100, T0),  # complete: not in progress
        },
    )
    with health_endpoint() as (endpoint, url):
        endpoint.status = 503
        options = JobOptions(now=T0 + HOUR, job_id="j", dry_run=True, env={"HEALTH_URL": url})
        report = run_job(read_checkout(root), None, options)
    text = render(report, "production")
    lines = text.splitlines()
    assert lines[2] == "| flag | stage | guards | this run |"
    assert lines[4] == (
        "| `a` | 25% early (2/5) | ⏳ http $HEALTH_URL: HTTP 503 (needs HTTP 200) "
        "| held: a guard was inconclusive, bump waits |"
    )
    assert lines[5] == "| `b` | 50% half (3/5) | no guard | nothing due |"
    assert "done" not in text


def test_the_cli_appends_the_summary_to_the_step_summary(tmp_path, monkeypatch, capsys):
    root = repo(tmp_path / "repo", {"flags/a.yaml": flow_at(5, T0)})
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    args = ["rollout", "--repo-dir", str(root), "--dry-run", "--now", "2030-01-01T10:00:00Z"]
    assert main(args) == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n### flagbot rollout (dry run)\n")
    assert "| `a` | 5% initial (1/5) | no guard | would bump (dry run) 5% → 25% |" in text


def test_guard_command_prints_each_outcome(tmp_path, monkeypatch, capsys):
    guard = HTTP + "    - prometheus: {url_env: PROM_URL, query: up, max: 1}\n"
    root = repo(tmp_path, {"flags/a.yaml": guarded_flow(25, T0, guard)})
    monkeypatch.delenv("PROM_URL", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with health_endpoint() as (_, url):
        monkeypatch.setenv("HEALTH_URL", url)
        assert main(["guard", "a", "--repo-dir", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "a: http $HEALTH_URL 200; prometheus <= 1 → pause"
    assert out[1].split() == [
        "PASS",
        "http",
        "$HEALTH_URL:",
        "HTTP",
        "200,",
        "needs",
        "HTTP",
        "200:",
        "pass",
    ]
    assert "INCONCLUSIVE" in out[2] and "PROM_URL is not set where the job runs" in out[2]
    assert out[3] == "overall: inconclusive; the job would hold: no bump"


def test_guard_command_for_an_unknown_flag_is_a_usage_error(tmp_path, capsys):
    root = repo(tmp_path, {"flags/a.yaml": flow_at(25, T0)})
    assert main(["guard", "nope", "--repo-dir", str(root)]) == 2
    assert "no valid flag 'nope'" in capsys.readouterr().err
