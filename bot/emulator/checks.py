"""Check runs and commit statuses, with GitHub's validation: at most 50 annotations per
request (PATCH appends more), `conclusion` implies `completed`, statuses reserved for GitHub
Actions are refused, `output` needs `title` and `summary`."""

from __future__ import annotations

from typing import Any

from bot.emulator.clock import parse_time
from bot.emulator.errors import ApiError, unprocessable, validation_failed
from bot.emulator.render import hooks
from bot.emulator.state import App, CheckRun, CheckSuite, CommitStatus, Repo, User
from bot.emulator.world import World

MAX_ANNOTATIONS = 50
MAX_ACTIONS = 3
STATUSES = ("queued", "in_progress", "completed")
ACTIONS_ONLY_STATUSES = ("waiting", "requested", "pending")
CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "timed_out",
)
ANNOTATION_LEVELS = ("notice", "warning", "failure")
STATUS_STATES = ("error", "failure", "pending", "success")
MAX_TEXT = 65535


def _time(value: Any, field: str):
    try:
        return parse_time(str(value))
    except ValueError:
        raise validation_failed("CheckRun", field) from None


def _annotations(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise validation_failed("CheckRun", "output.annotations")
    if len(items) > MAX_ANNOTATIONS:
        raise unprocessable("Only 50 annotations are allowed per request")
    out = []
    for a in items:
        if not isinstance(a, dict):
            raise validation_failed("CheckRun", "output.annotations")
        for key in ("path", "start_line", "end_line", "annotation_level", "message"):
            if a.get(key) in (None, ""):
                raise validation_failed("CheckRun", f"annotations.{key}", "missing_field")
        if a["annotation_level"] not in ANNOTATION_LEVELS:
            raise validation_failed("CheckRun", "annotations.annotation_level")
        if not isinstance(a["start_line"], int) or not isinstance(a["end_line"], int):
            raise validation_failed("CheckRun", "annotations.start_line")
        if ("start_column" in a or "end_column" in a) and a["start_line"] != a["end_line"]:
            raise unprocessable("start_column and end_column may only be used on a single line")
        out.append(dict(a))
    return out


def _apply(world: World, run: CheckRun, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply create/update fields to `run`; returns the annotations to append."""
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"]:
            raise validation_failed("CheckRun", "name", "missing_field")
        run.name = body["name"]
    for key in ("details_url", "external_id"):
        if key in body:
            run.__setattr__(key, body[key])
    if "started_at" in body and body["started_at"] is not None:
        run.started_at = _time(body["started_at"], "started_at")
    status = body.get("status")
    if status is not None:
        if status in ACTIONS_ONLY_STATUSES:
            raise unprocessable(f"Invalid status '{status}': only GitHub Actions can set it")
        if status not in STATUSES:
            raise validation_failed("CheckRun", "status")
    conclusion = body.get("conclusion")
    if conclusion is not None:
        if conclusion == "stale":
            raise unprocessable("Invalid conclusion 'stale': only GitHub can set it")
        if conclusion not in CONCLUSIONS:
            raise validation_failed("CheckRun", "conclusion")
        status = "completed"
    if status == "completed" and conclusion is None and run.conclusion is None:
        raise unprocessable("Conclusion can't be blank when status is completed")
    if body.get("completed_at") is not None:
        if conclusion is None and run.conclusion is None:
            raise unprocessable("Conclusion can't be blank when completed_at is set")
        run.completed_at = _time(body["completed_at"], "completed_at")
        status = "completed"
    if status is not None:
        run.status = status
        if status == "in_progress" and run.started_at is None:
            run.started_at = world.clock.now()
    if conclusion is not None:
        run.conclusion = conclusion
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = world.clock.now()
    new_annotations: list[dict[str, Any]] = []
    output = body.get("output")
    if output is not None:
        if not isinstance(output, dict):
            raise validation_failed("CheckRun", "output")
        for key in ("title", "summary"):
            if not isinstance(output.get(key), str) and not (
                run.output.get(key) and key not in output
            ):
                raise validation_failed("CheckRun", f"output.{key}", "missing_field")
        for key in ("summary", "text"):
            if isinstance(output.get(key), str) and len(output[key]) > MAX_TEXT:
                raise unprocessable(f"output.{key} is too long (maximum is {MAX_TEXT} characters)")
        if "annotations" in output:
            new_annotations = _annotations(output["annotations"])
        for key in ("title", "summary", "text"):
            if key in output:
                run.output[key] = output[key]
    if "actions" in body:
        if not isinstance(body["actions"], list) or len(body["actions"]) > MAX_ACTIONS:
            raise unprocessable("A check run may have at most 3 actions")
        run.actions = list(body["actions"])
    return new_annotations


def create_check_run(
    world: World, repo: Repo, app: App, sender: User, body: dict[str, Any]
) -> CheckRun:
    name = body.get("name")
    head_sha = body.get("head_sha")
    if not isinstance(name, str) or not name:
        raise validation_failed("CheckRun", "name", "missing_field")
    if not isinstance(head_sha, str) or head_sha not in repo.git.store.commits:
        raise unprocessable(f"No commit found for SHA: {head_sha}")
    now = world.clock.now()
    suite = next(
        (s for s in repo.check_suites.values() if s.app_id == app.id and s.head_sha == head_sha),
        None,
    )
    run = CheckRun(
        id=world.state.ids.next("check_run"),
        head_sha=head_sha,
        name=name,
        app_id=app.id,
        suite_id=suite.id if suite else 0,
        started_at=now,
    )
    annotations = _apply(world, run, body)  # validates before anything is stored
    if suite is None:
        suite = _new_suite(world, repo, app.id, head_sha)
        run.suite_id = suite.id
    suite.updated_at = now
    run.annotations.extend(annotations)
    repo.check_runs[run.id] = run
    if world.options.check_run_lifecycle_events:
        _emit(world, repo, run, "created", sender)
        if run.status == "completed":
            _emit(world, repo, run, "completed", sender)
    _maybe_completed(world, repo, suite, sender)
    return run


def _new_suite(world: World, repo: Repo, app_id: int, head_sha: str) -> CheckSuite:
    now = world.clock.now()
    head_branch = next((b for b in repo.git.branches() if repo.git.branch(b) == head_sha), None)
    suite = CheckSuite(world.state.ids.next("check_suite"), head_sha, head_branch, app_id, now, now)
    repo.check_suites[suite.id] = suite
    return suite


def suites_requested(world: World, repo: Repo, head_sha: str, sender: User) -> None:
    """A push: GitHub creates a check suite on the new head for each App installed on the
    repository with the checks permission, and asks each (`check_suite` `requested`)."""
    for app in list(world.state.apps.values()):
        if app.permissions.get("checks") not in ("read", "write"):
            continue
        if world.state.installation_for(repo, app.id) is None:
            continue
        if any(s.app_id == app.id and s.head_sha == head_sha for s in repo.check_suites.values()):
            continue
        suite = _new_suite(world, repo, app.id, head_sha)
        _emit_suite(world, repo, suite, "requested", sender)


def rerequest_suite(world: World, repo: Repo, suite: CheckSuite, sender: User) -> None:
    """GitHub's "Re-run all checks": the owning App hears `check_suite` `rerequested`."""
    suite.completed_sent = False
    _emit_suite(world, repo, suite, "rerequested", sender)


def _maybe_completed(world: World, repo: Repo, suite: CheckSuite, sender: User) -> None:
    """Every run of the suite completed: `check_suite` `completed`, once per completion."""
    runs = [r for r in repo.check_runs.values() if r.suite_id == suite.id]
    if runs and all(r.status == "completed" for r in runs):
        if not suite.completed_sent:
            suite.completed_sent = True
            _emit_suite(world, repo, suite, "completed", sender)
    else:
        suite.completed_sent = False


def _emit_suite(world: World, repo: Repo, suite: CheckSuite, action: str, sender: User) -> None:
    world.emit(
        "check_suite",
        action,
        repo,
        lambda ctx: hooks.check_suite(ctx, repo, suite, action, sender),
    )


def update_check_run(
    world: World, repo: Repo, run: CheckRun, sender: User, body: dict[str, Any]
) -> CheckRun:
    was_completed = run.status == "completed"
    snapshot = (
        dict(run.output),
        run.status,
        run.conclusion,
        run.started_at,
        run.completed_at,
        run.name,
    )
    try:
        annotations = _apply(world, run, body)
    except ApiError:
        run.output, run.status, run.conclusion, run.started_at, run.completed_at, run.name = (
            snapshot
        )
        raise
    run.annotations.extend(annotations)
    suite = repo.check_suites[run.suite_id]
    suite.updated_at = world.clock.now()
    if world.options.check_run_lifecycle_events and run.status == "completed" and not was_completed:
        _emit(world, repo, run, "completed", sender)
    _maybe_completed(world, repo, suite, sender)
    return run


def rerequest(world: World, repo: Repo, run: CheckRun, sender: User) -> None:
    """GitHub's "Re-run" button: tells the app that owns the run with `check_run` `rerequested`."""
    _emit(world, repo, run, "rerequested", sender)


def _emit(world: World, repo: Repo, run: CheckRun, action: str, sender: User) -> None:
    world.emit(
        "check_run", action, repo, lambda ctx: hooks.check_run(ctx, repo, run, action, sender)
    )


def find_run(repo: Repo, run_id: int) -> CheckRun:
    try:
        return repo.check_runs[run_id]
    except KeyError:
        raise ApiError(404, "Not Found") from None


def runs_for(
    repo: Repo, sha: str, *, name: str | None, status: str | None, latest: bool
) -> list[CheckRun]:
    """Check runs on `sha`, newest first; `latest` keeps each app's newest run per name
    (before the status filter: an older queued run hidden behind a newer one stays hidden)."""
    runs = [r for r in repo.check_runs.values() if r.head_sha == sha]
    if name is not None:
        runs = [r for r in runs if r.name == name]
    if latest:
        newest: dict[tuple[int, str], CheckRun] = {}
        for r in runs:
            key = (r.app_id, r.name)
            if key not in newest or r.id > newest[key].id:
                newest[key] = r
        runs = list(newest.values())
    if status is not None:
        runs = [r for r in runs if r.status == status]
    return sorted(runs, key=lambda r: r.id, reverse=True)


def create_status(
    world: World, repo: Repo, sha: str, creator: User, body: dict[str, Any]
) -> CommitStatus:
    state = body.get("state")
    if state not in STATUS_STATES:
        raise validation_failed("Status", "state")
    if sha not in repo.git.store.commits:
        raise unprocessable(f"No commit found for SHA: {sha}")
    now = world.clock.now()
    status = CommitStatus(
        id=world.state.ids.next("status"),
        sha=sha,
        state=state,
        context=body.get("context") or "default",
        description=body.get("description"),
        target_url=body.get("target_url"),
        creator=creator.login,
        created_at=now,
        updated_at=now,
    )
    repo.statuses.append(status)
    return status
