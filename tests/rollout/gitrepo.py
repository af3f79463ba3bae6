"""Building real git repositories for tests, with commit dates chosen by the test."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path


def git(root: Path, *args: str, at: datetime | None = None) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    if at is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = at.isoformat()
    out = subprocess.run(
        ["git", "-C", str(root), *args], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout


def commit_files(root: Path, files: dict[str, str], at: datetime, message: str = "change") -> None:
    """Write `files` under `root` and commit them with author and committer date `at`."""
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, at=at)
