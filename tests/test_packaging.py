"""Packaging: one version, a licence that says what pyproject says, every import declared."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import bot
from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def _requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def _imports(folder: Path) -> set[str]:
    """Top-level names of every absolute import in the folder's Python files."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"bot", "tests", "bench", "__future__"}


def _distributions(module_names: set[str]) -> dict[str, set[str]]:
    owners = metadata.packages_distributions()
    return {m: {d.lower().replace("_", "-") for d in owners.get(m, [])} for m in module_names}


def test_the_version_has_one_source():
    assert PROJECT["dynamic"] == ["version"]
    assert "version" not in PROJECT
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bot.__version__"}
    assert metadata.version("flagbot") == bot.__version__


def test_flagbot_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"flagbot {bot.__version__}"


def test_the_licence_is_the_one_pyproject_names():
    assert PROJECT["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert re.search(r"Copyright \(c\) \d{4} flagbot contributors", text)


def test_every_package_the_code_imports_is_declared():
    declared = {_requirement_name(r) for r in PROJECT["dependencies"]}
    undeclared = {
        module: dists
        for module, dists in _distributions(_imports(ROOT / "bot")).items()
        if not dists & declared
    }
    # The demo's SMTP receiver is the demo extra; pytest only serves the test fixtures module.
    extras = {_requirement_name(r) for r in PROJECT["optional-dependencies"]["demo"]}
    assert {m for m, d in undeclared.items() if not d & extras} <= {"pytest", "_pytest"}


def test_what_the_tests_import_is_in_the_test_extra():
    declared = {
        _requirement_name(r)
        for r in [
            *PROJECT["dependencies"],
            *PROJECT["optional-dependencies"]["demo"],
            *PROJECT["optional-dependencies"]["test"],
        ]
    }
    missing = {
        module: dists
        for module, dists in _distributions(
            _imports(ROOT / "tests") | _imports(ROOT / "bench")
        ).items()
        if not dists & declared
    }
    assert missing == {}


def test_the_test_extra_pulls_in_the_demo_extra():
    assert "flagbot[demo]" in PROJECT["optional-dependencies"]["test"]
    assert "aiosmtpd" not in {_requirement_name(r) for r in PROJECT["dependencies"]}


def test_python_dash_m_bot_prints_the_same_version():
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"flagbot {bot.__version__}"


def test_the_project_urls_are_where_releases_come_from():
    from bot.release import HOME_REPOSITORY

    assert set(PROJECT["urls"].values()) == {f"https://github.com/{HOME_REPOSITORY}"}
