"""`flagbot validate` and the rollout job's checkout report symlinks and submodules under
flags/: only regular files are flags, and a symlink is never followed to read one."""

from __future__ import annotations

import os
import subprocess

import pytest

from bot.cli import main
from bot.rollout.checkout import read_checkout
from tests.commands.test_validate import repo  # noqa: F401  (fixture)

GITLINK = "5" * 40


def git(root, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_a_symlinked_flag_is_reported_and_not_read(repo, capsys):  # noqa: F811
    os.symlink("good.yaml", repo / "flags" / "sneaky_link.yaml")
    assert main(["validate"]) == 1
    out, _ = capsys.readouterr()
    assert (
        "flags/sneaky_link.yaml:0:0: flags/sneaky_link.yaml is a symlink (mode 120000): "
        "flags must be regular files"
    ) in out
    assert "also defined" not in out  # its target was not read as a second flag


def test_a_symlinked_folder_is_reported_and_not_walked(repo, tmp_path_factory, capsys):  # noqa: F811
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "x.yaml").write_text("name: [\n")
    os.symlink(elsewhere, repo / "flags" / "prod")
    assert main(["validate"]) == 1
    out, _ = capsys.readouterr()
    assert "flags/prod is a symlink (mode 120000)" in out and "x.yaml" not in out


def test_a_submodule_is_reported_from_the_git_index(repo, capsys):  # noqa: F811
    git(repo, "init", "-q")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{GITLINK},flags/vendored.yaml")
    assert main(["validate"]) == 1
    out, _ = capsys.readouterr()
    assert "flags/vendored.yaml is a submodule (mode 160000): flags must be regular files" in out


@pytest.mark.parametrize("kind", ["symlink", "submodule"])
def test_the_rollout_job_reports_them_too(tmp_path, kind):
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "real.yaml").write_text("name: Real\n")
    if kind == "symlink":
        os.symlink("real.yaml", tmp_path / "flags" / "link.yaml")
        path = "flags/link.yaml"
    else:
        git(tmp_path, "init", "-q")
        git(tmp_path, "update-index", "--add", "--cacheinfo", f"160000,{GITLINK},flags/sub")
        path = "flags/sub"
    checkout = read_checkout(tmp_path)
    [problem] = checkout.diagnostics
    assert problem.path == path and f"is a {kind}" in problem.message
    assert checkout.flag_count == 1
