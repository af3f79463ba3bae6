"""A local git checkout, read through the `git` binary: the one place flagbot runs git.

Each method is one git command (or one `cat-file --batch` session) turned into plain data;
nothing here decides anything. Paths are repository-relative with `/`, as GitHub lists them.
Output is read NUL-separated (`-z`), so names with spaces, quotes or non-ASCII letters come
through unquoted.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.policy.assess import ChangedFile

# A blob is read up to this many bytes; every loader rejects files far smaller (flag files at
# 256 KiB, CODEOWNERS at 3 MB), so the cut never changes a verdict and a huge blob never
# sits whole in memory.
READ_LIMIT = 4 * 1024 * 1024

# `git diff --name-status` letters -> GitHub's pull-request file statuses. `-M` detects no
# copies, but a user's `diff.renames=copies` may: a copy leaves its source untouched, so for
# the pull request it is a new file, not a rename.
_STATUS = {"A": "added", "C": "added", "D": "removed", "M": "modified", "T": "changed"}


class GitError(Exception):
    """git failed or the repository or ref does not exist; the message says what to do."""


def parse_name_status(out: bytes) -> list[ChangedFile]:
    """`git diff --name-status -z` output -> changed files.

    Records are `STATUS NUL path NUL`, or `RNNN NUL old NUL new NUL` for renames and copies.
    """
    fields = out.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    files: list[ChangedFile] = []
    i = 0
    while i < len(fields):
        status = fields[i].decode("ascii", "replace")
        letter = status[:1]
        if letter in ("R", "C"):
            if i + 2 >= len(fields):
                raise GitError(f"unexpected `git diff` output near {status!r}")
            old, new = _path(fields[i + 1]), _path(fields[i + 2])
            i += 3
            if letter == "R":
                files.append(ChangedFile(new, "renamed", old))
            else:
                files.append(ChangedFile(new, _STATUS["C"]))
            continue
        if i + 1 >= len(fields):
            raise GitError(f"unexpected `git diff` output near {status!r}")
        files.append(ChangedFile(_path(fields[i + 1]), _STATUS.get(letter, "modified")))
        i += 2
    return files


def _path(raw: bytes) -> str:
    # Names that are not UTF-8 cannot be valid flag keys; replacing keeps output printable.
    return raw.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Git:
    root: Path

    @classmethod
    def discover(cls, cwd: Path) -> Git:
        """The work tree containing `cwd`."""
        result = _run(cwd, "rev-parse", "--show-toplevel")
        if result.returncode != 0:
            raise GitError(
                f"not a git work tree: {cwd} ({_first_line(result.stderr)}); run this inside "
                "your checkout of the flags repository"
            )
        return cls(Path(result.stdout.decode("utf-8", "surrogateescape").rstrip("\n")))

    def run(self, *args: str, what: str) -> bytes:
        return _git(self.root, *args, what=what)

    def resolve(self, ref: str) -> str:
        """The commit id a ref names (branch, tag, sha, `HEAD~2`, `origin/main`…)."""
        if not ref or ref.startswith("-"):
            raise GitError(f"{ref!r} is not a ref: name a branch, tag or commit")
        result = self._try("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if result.returncode != 0:
            raise GitError(
                f"unknown ref {ref!r}: no branch, tag or commit by that name here "
                "(fetch it first, e.g. `git fetch origin main`, or use origin/<branch>)"
            )
        return result.stdout.decode().strip()

    def merge_base(self, a: str, b: str) -> str | None:
        """Where the branch left the base, as GitHub diffs a pull request; None if unrelated."""
        result = self._try("merge-base", a, b)
        if result.returncode == 1:
            return None
        if result.returncode != 0:
            raise GitError(f"git merge-base failed: {_first_line(result.stderr)}")
        return result.stdout.decode().strip()

    def changed_files(self, old: str, new: str) -> list[ChangedFile]:
        out = self.run(
            "diff",
            "--name-status",
            "-z",
            "-M",
            "--no-color",
            "--no-ext-diff",
            "--no-relative",
            old,
            new,
            "--",
            what="list the changed files",
        )
        return parse_name_status(out)

    def list_files(self, rev: str, folder: str) -> list[str]:
        out = self.run(
            "ls-tree", "-r", "-z", "--name-only", "--full-tree", rev, "--", folder,
            what=f"list {folder}/",
        )  # fmt: skip
        return [_path(p) for p in out.split(b"\0") if p]

    def modes(self, rev: str, folder: str) -> dict[str, str]:
        """Path -> git mode of every entry under `folder` at `rev` (submodules included)."""
        out = self.run(
            "ls-tree", "-r", "-z", "--full-tree", rev, "--", folder, what=f"list {folder}/"
        )  # fmt: skip
        found: dict[str, str] = {}
        for record in out.split(b"\0"):
            meta, _, path = record.partition(b"\t")
            if path:
                found[_path(path)] = meta.split(b" ", 1)[0].decode()
        return found

    def read_blobs(
        self, rev: str, paths: Iterable[str], limit: int = READ_LIMIT
    ) -> dict[str, bytes]:
        """The content of each path at `rev` (at most `limit` bytes); absent paths are left out.

        One `git cat-file --batch` process answers every path, one request at a time (git
        flushes after each object), so nothing deadlocks however many files there are.
        """
        wanted = list(dict.fromkeys(paths))
        found: dict[str, bytes] = {}
        batched = [p for p in wanted if "\n" not in p]
        if batched:
            found |= self._batch(rev, batched, limit)
        for path in (p for p in wanted if "\n" in p):  # a name the batch protocol cannot carry
            result = self._try("cat-file", "blob", f"{rev}:{path}")
            if result.returncode == 0:
                found[path] = result.stdout[:limit]
        return found

    def _batch(self, rev: str, paths: list[str], limit: int) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        try:
            proc = subprocess.Popen(
                ["git", "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise GitError(f"cannot run git ({exc.strerror}); install git and try again") from None
        assert proc.stdin is not None and proc.stdout is not None
        with proc:
            for path in paths:
                try:
                    proc.stdin.write(f"{rev}:{path}\n".encode())
                    proc.stdin.flush()
                except BrokenPipeError:
                    raise GitError(f"git cat-file stopped while reading {path}") from None
                header = proc.stdout.readline()
                if not header:
                    raise GitError(f"git cat-file stopped while reading {path}")
                parts = header.rstrip(b"\n").split(b" ")
                if len(parts) != 3 or not parts[2].isdigit():
                    continue  # "<name> missing": not at this commit
                data = _read_bounded(proc.stdout, int(parts[2]), limit)
                proc.stdout.read(1)  # the newline after the content
                if parts[1] == b"blob":
                    found[path] = data
            proc.stdin.close()
        return found

    def config(self, name: str) -> str | None:
        result = self._try("config", "--get", name)
        return result.stdout.decode("utf-8", "replace").strip() or None

    def commit_field(self, rev: str, placeholder: str) -> str:
        """One `git log --format` placeholder of a commit, e.g. %an (author) or %s (subject)."""
        out = self.run(
            "log", "-1", "--no-show-signature", f"--format={placeholder}", rev, "--",
            what="read the commit",
        )  # fmt: skip
        return out.decode("utf-8", "replace").strip()

    def has_uncommitted(self, folder: str) -> bool:
        """Whether files under `folder` differ from HEAD (staged, unstaged or untracked)."""
        out = self.run(
            "status", "--porcelain", "-z", "--untracked-files=all", "--", folder,
            what="check for uncommitted changes",
        )  # fmt: skip
        return bool(out)

    def _try(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return _run(self.root, *args)


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(cwd), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git ({exc.strerror}); install git and try again") from None


def _git(cwd: Path, *args: str, what: str) -> bytes:
    result = _run(cwd, *args)
    if result.returncode != 0:
        raise GitError(f"cannot {what}: {_first_line(result.stderr)}")
    return result.stdout


def _first_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "git failed"


def _read_bounded(stream: IO[bytes], size: int, limit: int) -> bytes:
    """Read exactly `size` bytes from `stream`, keeping the first `limit`."""
    kept = stream.read(min(size, limit))
    left = size - len(kept)
    while left > 0:
        chunk = stream.read(min(left, 1 << 16))
        if not chunk:
            break
        left -= len(chunk)
    return kept
