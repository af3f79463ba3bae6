"""The rollout job against the local GitHub: a seeded emulator, a fresh checkout per run (as
Actions makes one), and views of the branch to assert on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.emulator.emulator import Emulator
from bot.emulator.git.objects import Signature
from bot.rollout.checkout import read_checkout
from bot.rollout.job import JobOptions, JobReport, Notifier, run_job
from bot.rollout.remote import Connection, RemoteRepo
from tests.emulator_harness import REPO, TOKENS, seed_for

ROOT = Path(__file__).resolve().parents[2]
BRANCH = "main"
TOKEN = TOKENS["flagbot"]


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    message: str
    author: Signature
    committer: Signature

    @property
    def title(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass
class Harness:
    emulator: Emulator
    url: str
    workdir: Path
    runs: int = 0

    # --- the job -------------------------------------------------------------------------
    def connection(self, **overrides: Any) -> Connection:
        values: dict[str, Any] = {
            "repository": REPO,
            "token": TOKEN,
            "api_url": self.url,
            "write_pause": 0.0,
            "request_pause": 0.0,
            "backoff": 0.0,
        }
        values.update(overrides)
        return Connection(**values)

    def checkout(self) -> Path:
        """A fresh copy of the branch's files, like `actions/checkout` at the branch head."""
        self.runs += 1
        target = self.workdir / f"checkout-{self.runs}"
        if target.exists():
            shutil.rmtree(target)
        for path, data in self.files().items():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            (target / path).write_bytes(data)
        (target / "flags").mkdir(parents=True, exist_ok=True)
        return target

    def run(
        self,
        now: datetime,
        *,
        checkout: Path | None = None,
        job_id: str = "test-job",
        branch: str | None = BRANCH,
        connection: Connection | None = None,
        notifier: Notifier | None = None,
        **options: Any,
    ) -> JobReport:
        root = checkout or self.checkout()
        remote = RemoteRepo.connect(connection or self.connection(), branch)
        opts = JobOptions(now=now, job_id=job_id, **options)
        if notifier is None:
            return run_job(read_checkout(root), remote, opts)
        return run_job(read_checkout(root), remote, opts, notifier=notifier)

    # --- the branch ----------------------------------------------------------------------
    def files(self) -> dict[str, bytes]:
        with self.emulator.lock:
            git = self.emulator.repo(REPO).git
            flat = git.flat(git.branch(BRANCH))
            return {path: git.store.blob(sha) for path, (_, sha) in flat.items()}

    def file(self, path: str) -> bytes:
        return self.files()[path]

    def head(self) -> str:
        with self.emulator.lock:
            return self.emulator.repo(REPO).git.branch(BRANCH)

    def commit(self, sha: str | None = None) -> CommitInfo:
        with self.emulator.lock:
            store = self.emulator.repo(REPO).git.store
            sha = sha or self.head()
            c = store.commit(sha)
            return CommitInfo(sha, c.message, c.author, c.committer)

    def commits_since(self, sha: str) -> list[CommitInfo]:
        """Commits on the branch after `sha`, oldest first (first-parent chain)."""
        out = []
        with self.emulator.lock:
            store = self.emulator.repo(REPO).git.store
            at = self.head()
            while at != sha:
                c = store.commit(at)
                out.append(CommitInfo(at, c.message, c.author, c.committer))
                at = c.parents[0]
        return out[::-1]

    def push(self, files: Mapping[str, str | bytes], at: datetime, message: str) -> str:
        """A person's change landing on the branch at `at` (a merged pull request)."""
        return self.emulator.push_files(
            REPO, BRANCH, files, message=message, author="dev", date=at.isoformat()
        )


@contextmanager
def harness(
    files: Mapping[str, str], tmp_path: Path, *, clock: datetime, **seed: Any
) -> Iterator[Harness]:
    """An emulator whose repository's first commit (the flags' merge) is dated `clock`."""
    emulator = Emulator.from_seed(
        seed_for(dict(files), clock=clock.strftime("%Y-%m-%dT%H:%M:%SZ"), **seed)
    )
    with emulator.serve_in_thread() as url:
        yield Harness(emulator, url, tmp_path)
