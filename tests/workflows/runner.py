"""Runs a composite action's `run:` steps the way the Actions runner does, for tests.

Each step gets the environment the runner gives it (the job's variables, the calling step's
`env:`, the step's own `env:` with its `${{ }}` expressions evaluated), a fresh
GITHUB_OUTPUT / GITHUB_PATH file, the shared GITHUB_STEP_SUMMARY, and runs under
`bash --noprofile --norc -eo pipefail`. `uses:` steps (setup-python, cache) are the test's to
provide; they are listed as skipped. The first failing step ends the run, as in Actions.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class UnsupportedExpression(Exception):
    pass


@dataclass
class StepResult:
    name: str
    returncode: int | None  # None: a `uses:` step, not run here
    stdout: str = ""
    stderr: str = ""


@dataclass
class Context:
    values: dict[str, Any]

    def lookup(self, dotted: str) -> Any:
        """A missing property is empty, as in Actions; an unknown context is an error."""
        first, *rest = dotted.split(".")
        if first not in self.values:
            raise UnsupportedExpression(dotted)
        at: Any = self.values[first]
        for part in rest:
            at = at.get(part, "") if isinstance(at, dict) else ""
        return at

    def evaluate(self, expression: str) -> Any:
        """`a.b.c`, `'text'`, `true`/`false`, and `x || y` (the first truthy one)."""
        for option in (o.strip() for o in expression.split("||")):
            if re.fullmatch(r"'[^']*'", option):
                value: Any = option[1:-1]
            elif option in ("true", "false"):
                value = option == "true"
            elif re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+", option):
                value = self.lookup(option)
            else:
                raise UnsupportedExpression(expression)
            if value:
                return value
        return value

    def render(self, text: Any) -> str:
        if not isinstance(text, str):
            return "true" if text is True else "false" if text is False else str(text)

        def one(match: re.Match[str]) -> str:
            value = self.evaluate(match[1])
            return self.render(value) if not isinstance(value, str) else value

        return EXPRESSION.sub(one, text)


def load_action(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def action_inputs(action: dict[str, Any], given: dict[str, Any], ctx: Context) -> dict[str, str]:
    """Every declared input: the given value, else the declared default (rendered)."""
    unknown = set(given) - set(action["inputs"])
    if unknown:
        raise ValueError(f"inputs the action does not declare: {sorted(unknown)}")
    out = {}
    for name, spec in action["inputs"].items():
        if name in given:
            out[name] = ctx.render(given[name])
        elif spec.get("required"):
            raise ValueError(f"required input {name!r} missing")
        else:
            out[name] = ctx.render(spec.get("default", ""))
    return out


@dataclass
class Runner:
    action_path: Path
    workspace: Path
    temp: Path
    job_env: dict[str, str]  # what the runner sets for the job (GITHUB_REPOSITORY, ...)
    github: dict[str, str] = field(default_factory=dict)  # the `github` context (token, ...)
    # Outputs of the `uses:` steps the test stands in for, by step id.
    uses_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    results: list[StepResult] = field(default_factory=list)

    @property
    def summary(self) -> Path:
        return self.temp / "step_summary.md"

    def run(self, inputs: dict[str, Any], caller_env: dict[str, str] | None = None) -> int:
        action = load_action(self.action_path / "action.yml")
        github = {"action_path": str(self.action_path), "workspace": str(self.workspace)}
        ctx = Context({"github": {**self.github, **github}, "runner": {"os": "Linux"}})
        ctx.values["inputs"] = action_inputs(action, inputs, ctx)
        ctx.values["steps"] = {}
        path_entries: list[str] = []
        self.summary.touch()
        for i, step in enumerate(action["runs"]["steps"]):
            name = ctx.render(step.get("name", step.get("uses", f"step {i}")))
            if "uses" in step:
                self.results.append(StepResult(name, None))
                if "id" in step:
                    ctx.values["steps"][step["id"]] = {"outputs": self.uses_outputs[step["id"]]}
                continue
            output, path_file = self.temp / f"output-{i}", self.temp / f"path-{i}"
            output.touch()
            path_file.touch()
            env = {
                **self.job_env,
                **(caller_env or {}),
                **{k: ctx.render(v) for k, v in (step.get("env") or {}).items()},
                "GITHUB_ACTION_PATH": str(self.action_path),
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_OUTPUT": str(output),
                "GITHUB_PATH": str(path_file),
                "GITHUB_STEP_SUMMARY": str(self.summary),
                "RUNNER_TEMP": str(self.temp),
                "RUNNER_OS": "Linux",
            }
            env["PATH"] = os.pathsep.join([*reversed(path_entries), self.job_env["PATH"]])
            script = self.temp / f"step-{i}.sh"
            script.write_text(ctx.render(step["run"]) if "${{" in step["run"] else step["run"])
            cwd = self.workspace / ctx.render(step.get("working-directory", "."))
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            self.results.append(StepResult(name, done.returncode, done.stdout, done.stderr))
            if "id" in step:
                ctx.values["steps"][step["id"]] = {"outputs": _outputs(output)}
            path_entries += [p for p in path_file.read_text().splitlines() if p]
            if done.returncode != 0:
                return done.returncode
        return 0


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
