"""The job summary: one markdown table of every flag in progress, its stage, its guards'
outcomes and what the run did (written to `$GITHUB_STEP_SUMMARY`, shown on the run's page)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.rollout.job import JobReport, Result
from bot.rollout.schedule import fmt_pct, stage_label
from bot.rollout.verdict import Outcome

MARK = {"pass": "✅", "inconclusive": "⏳", "fail": "❌"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _guards(outcomes: Iterable[Outcome]) -> str:
    shown = [f"{MARK[o.verdict]} {o.title}: {o.value} (needs {o.threshold})" for o in outcomes]
    return "<br>".join(shown) or "no guard"


def _action(result: Result | None, default_environment: str) -> str:
    if result is None:
        return "nothing due"
    sha = f" `{result.commit_sha[:7]}`" if result.commit_sha else ""
    words = {
        "bumped": "bumped",
        "paused": "rolled back and paused"
        if getattr(result.action, "rollback", False)
        else "paused",
        "would-bump": "would bump (dry run)",
        "would-pause": "would pause (dry run)",
        "held": "held: a guard was inconclusive"
        + (", bump waits" if getattr(result.action, "due", False) else ""),
        "settled": f"nothing: {result.detail}",
        "failed": f"FAILED: {result.detail}",
    }
    what = words[result.outcome]
    if result.outcome in ("bumped", "would-bump") and result.bump is not None:
        what += f" {fmt_pct(result.bump.from_percentage)}% → {fmt_pct(result.bump.to_percentage)}%"
    return what + sha


def render(report: JobReport, default_environment: str, title: str = "flagbot rollout") -> str:
    by_path = {r.path: r for r in report.results}
    lines = [f"### {title}", ""]
    flags = list(report.tracked)
    flags += [r.flag for r in report.results if r.flag.path not in {f.path for f in flags}]
    if not flags:
        lines.append("No staged rollout is in progress.")
    else:
        lines += ["| flag | stage | guards | this run |", "| --- | --- | --- | --- |"]
        for flag in flags:
            r = flag.rollout
            assert r is not None
            name = (
                flag.key
                if flag.environment == default_environment
                else f"{flag.environment}/{flag.key}"
            )
            index = max((i for i, p in enumerate(r.stages) if p <= r.percentage), default=-1)
            stage = f"{fmt_pct(r.percentage)}% {stage_label(r.stages, index)}"
            stage += f" ({index + 1}/{len(r.stages)})"
            guard = report.guards.get(flag.path)
            cells = (
                f"`{name}`",
                stage,
                _guards(guard.outcomes if guard else ()),
                _action(by_path.get(flag.path), default_environment),
            )
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if report.commit_sha:
        lines += ["", f"One commit for this run: `{report.commit_sha[:7]}`."]
    if report.problems:
        lines += ["", "Problems:", *(f"- {_cell(p)}" for p in report.problems)]
    return "\n".join(lines) + "\n"
