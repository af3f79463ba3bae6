"""Issue comments and labels on pull requests (a pull request is an issue with the same number;
plain issues are not emulated)."""

from __future__ import annotations

from typing import Any

from bot.emulator.errors import ApiError, not_found, validation_failed
from bot.emulator.state import IssueComment, Label, PullRequest, Repo, User
from bot.emulator.world import World


def issue(repo: Repo, number: int) -> PullRequest:
    pr = repo.pulls.get(number)
    if pr is None:
        raise not_found()
    return pr


def add_comment(
    world: World, repo: Repo, number: int, author: User, body: Any, app_id: int | None
) -> IssueComment:
    issue(repo, number)
    if not isinstance(body, str) or not body.strip():
        raise validation_failed("IssueComment", "body", "missing_field")
    if len(body) > 65536:
        raise validation_failed(
            "IssueComment",
            "body",
            "custom",
            message="Body is too long (maximum is 65536 characters)",
        )
    now = world.clock.now()
    comment = IssueComment(
        world.state.ids.next("comment"), number, author.login, body, now, now, app_id
    )
    repo.comments[comment.id] = comment
    return comment


def find_comment(repo: Repo, comment_id: int) -> IssueComment:
    comment = repo.comments.get(comment_id)
    if comment is None:
        raise not_found()
    return comment


def edit_comment(world: World, comment: IssueComment, body: Any) -> IssueComment:
    if not isinstance(body, str) or not body.strip():
        raise validation_failed("IssueComment", "body", "missing_field")
    comment.body = body
    comment.updated_at = world.clock.now()
    return comment


def _label(world: World, repo: Repo, name: Any) -> Label:
    if not isinstance(name, str) or not name.strip():
        raise validation_failed("Label", "name", "invalid")
    key = name.lower()
    if key not in repo.labels:
        repo.labels[key] = Label(world.state.ids.next("label"), name)
    return repo.labels[key]


def _names(body: Any) -> list[Any]:
    if isinstance(body, list):
        return [x["name"] if isinstance(x, dict) and "name" in x else x for x in body]
    if isinstance(body, dict) and isinstance(body.get("labels"), list):
        return _names(body["labels"])
    raise validation_failed("Label", "labels", "missing_field")


def add_labels(world: World, repo: Repo, number: int, body: Any) -> list[Label]:
    pr = issue(repo, number)
    names = _names(body)
    labels = [_label(world, repo, n) for n in names]
    for lab in labels:
        if lab.name.lower() not in {n.lower() for n in pr.labels}:
            pr.labels.append(lab.name)
    return [repo.labels[n.lower()] for n in pr.labels]


def set_labels(world: World, repo: Repo, number: int, body: Any) -> list[Label]:
    pr = issue(repo, number)
    labels = [_label(world, repo, n) for n in _names(body)] if body not in (None, {}) else []
    pr.labels = []
    for lab in labels:
        if lab.name not in pr.labels:
            pr.labels.append(lab.name)
    return [repo.labels[n.lower()] for n in pr.labels]


def remove_label(repo: Repo, number: int, name: str) -> list[Label]:
    pr = issue(repo, number)
    for current in pr.labels:
        if current.lower() == name.lower():
            pr.labels.remove(current)
            return [repo.labels[n.lower()] for n in pr.labels]
    raise ApiError(404, "Label does not exist")


def remove_all_labels(repo: Repo, number: int) -> None:
    issue(repo, number).labels = []
