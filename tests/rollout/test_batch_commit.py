"""One commit per run: however many flags are due, a run writes one tree, one commit and one
ref move (a fast-forward); a merge landing in between is read and decided again."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from tests.emulator_harness import REPO
from tests.rollout.harness import harness
from tests.rollout.test_job_github import flow_at

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = 'roles: {manager: ["@acme/eng-managers"], qa: ["@acme/qa"]}\n'
PATCH_REF = "PATCH /repos/{owner}/{repo}/git/refs/{ref}"
N = 100


def many() -> dict[str, str]:
    files = {f"flags/flag_{i:03}.yaml": flow_at((5, 25, 50, 75)[i % 4], T0) for i in range(N)}
    files["flags/staging/readme_banner.yaml"] = "name: Banner\n"
    return {**files, ".github/flagbot.yml": POLICY}


def percentage(h, path: str) -> float:
    return yaml.safe_load(h.file(path))["rollout"]["percentage"]


def test_a_hundred_due_flags_are_one_commit_of_constant_writes(tmp_path):
    with harness(many(), tmp_path, clock=T0) as h:
        start = h.head()
        h.emulator.calls.reset()
        report = h.run(T0 + HOUR)
        assert report.ok and len(report.bumped()) == N
        writes = {
            k: v["calls"] for k, v in h.emulator.calls.stats().items() if not k.startswith("GET")
        }
        assert writes == {
            "POST /repos/{owner}/{repo}/git/trees": 1,
            "POST /repos/{owner}/{repo}/git/commits": 1,
            PATCH_REF: 1,
        }
        [c] = h.commits_since(start)
        assert c.title == f"rollout: {N} flags ({N} bumped)"
        body = c.message.splitlines()
        assert "- rollout: flag_007 75% → 100% (full)" in body
        assert sum(line.startswith("- rollout: flag_") for line in body) == N
        assert "Flagbot-Job: test-job" in body
        assert {r.commit_sha for r in report.bumped()} == {c.sha}
        assert percentage(h, "flags/flag_000.yaml") == 25
        assert percentage(h, "flags/flag_003.yaml") == 100


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")
def test_each_flags_bump_shows_in_its_own_git_log(tmp_path):
    files = {"flags/a.yaml": flow_at(5, T0), "flags/b.yaml": flow_at(25, T0)}
    with harness({**files, ".github/flagbot.yml": POLICY}, tmp_path, clock=T0) as h:
        h.run(T0 + HOUR)
        bare = h.emulator.export_git(REPO, tmp_path / "export.git")

        def log(path: str) -> str:
            out = subprocess.run(
                ["git", "--git-dir", str(bare), "log", "--format=%B", "main", "--", path],
                capture_output=True,
                text=True,
                check=True,
            )
            return out.stdout

        assert "- rollout: a 5% → 25% (early)" in log("flags/a.yaml")
        assert "- rollout: b 25% → 50% (half)" in log("flags/b.yaml")


def test_a_merge_in_between_is_read_again_and_decided_again(tmp_path):
    with harness(many(), tmp_path, clock=T0) as h:
        now = T0 + HOUR
        paused = flow_at(25, T0).replace("  every: 60m", "  every: 60m\n  paused: true", 1)
        merged = h.emulator.faults.before_call(
            PATCH_REF,
            lambda: h.push(
                {
                    "flags/flag_001.yaml": paused,  # a person paused this one meanwhile
                    "flags/staging/readme_banner.yaml": "name: Banner v2\n",
                },
                now - timedelta(minutes=1),
                "Pause flag_001, rename the banner (#42)",
            ),
        )
        start = h.head()
        h.emulator.calls.reset()
        report = h.run(now)
        assert merged.done and report.ok
        assert h.emulator.calls.stats()[PATCH_REF]["statuses"] == {"422": 1, "200": 1}
        assert h.emulator.calls.count("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}") == 1
        outcomes = {r.path: r.outcome for r in report.results}
        assert outcomes.pop("flags/flag_001.yaml") == "settled"
        assert set(outcomes.values()) == {"bumped"} and len(outcomes) == N - 1
        person, job = h.commits_since(start)
        assert person.title == "Pause flag_001, rename the banner (#42)"
        assert job.title == f"rollout: {N - 1} flags ({N - 1} bumped)"
        assert h.file("flags/flag_001.yaml") == paused.encode()  # the person's pause stands
        assert h.file("flags/staging/readme_banner.yaml") == b"name: Banner v2\n"
        assert percentage(h, "flags/flag_002.yaml") == 75


def test_a_flag_turned_into_a_symlink_meanwhile_is_not_edited(tmp_path):
    files = {"flags/a.yaml": flow_at(25, T0), "flags/b.yaml": flow_at(25, T0)}
    with harness({**files, ".github/flagbot.yml": POLICY}, tmp_path, clock=T0) as h:

        def symlink_a() -> None:
            def call(method: str, path: str, body: dict) -> dict:
                result = h.emulator.request(
                    method, f"/repos/{REPO}{path}", json_body=body, login="dev"
                )
                assert result.status < 300, result
                return result.body

            head = h.head()
            base = h.emulator.repo(REPO).git.store.commit(head).tree
            link = {"path": "flags/a.yaml", "mode": "120000", "type": "blob", "content": "b.yaml"}
            tree = call("POST", "/git/trees", {"base_tree": base, "tree": [link]})
            commit = call(
                "POST",
                "/git/commits",
                {"message": "Link a to b", "tree": tree["sha"], "parents": [head]},
            )
            call("PATCH", "/git/refs/heads/main", {"sha": commit["sha"]})

        h.emulator.faults.before_call("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", symlink_a)
        report = h.run(T0 + HOUR)
        outcomes = {r.path: (r.outcome, r.detail) for r in report.results}
        assert outcomes["flags/a.yaml"] == (
            "failed",
            "it is no regular file on the branch (mode 120000); left alone",
        )
        assert outcomes["flags/b.yaml"][0] == "bumped"
        assert percentage(h, "flags/b.yaml") == 50
