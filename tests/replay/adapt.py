"""Real webhook payloads, adapted to the emulated repository.

The payloads are GitHub's own (vendored from octokit/webhooks and angular/github-robot); they
describe pull requests in `Codertocat/Hello-World` or `ocombe/test`. To replay them against
the emulated `acme/flags`, only identities are rewritten; every other field stays exactly as
GitHub sent it, which is the point: the bot must cope with GitHub's real shapes.

1. Repository, organization, installation: `bot.replay.retarget`, the rules `flagbot replay`
   applies in process: `repository` becomes the emulated one, every string naming the old
   `owner/name` (URLs, `head.repo`, `base.repo`) names `acme/flags`, `organization` the
   emulated owner, `installation` the App's installation on `acme/flags`.
2. Pull request: `number` (top level and `pull_request.number`), `pull_request.id`, head and
   base `sha`, `ref` and `label` are the emulated pull request's; every string holding the
   old head or base sha (`statuses_url`, `review.commit_id`, a push's `after`...) holds the
   new one, and every URL ending in `/pulls/N`, `/pull/N` or `/issues/N` (or continuing
   after it) names the new number.
3. People: `sender` is whoever acted, `pull_request.user` the author, `review.user` the
   reviewer (the emulated users' JSON).
4. Review: `id`, `state` (lowercase, as webhooks spell it) and `commit_id` are the emulated
   review's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from bot.replay.retarget import Emulated, map_strings, retarget, substitute

Json = dict[str, Any]


@dataclass(frozen=True)
class Scene:
    """What the adapted delivery describes, as the emulated GitHub's REST API shows it."""

    pull: Mapping[str, Any]  # GET /repos/{owner}/{repo}/pulls/{number}
    sender: Mapping[str, Any]  # GET /users/{login} of whoever acted
    review: Mapping[str, Any] | None = None  # one of GET .../pulls/{number}/reviews


def adapt(payload: Mapping[str, Any], emulated: Emulated, scene: Scene) -> Json:
    out, _ = retarget(payload, emulated)
    old_pull = out.get("pull_request") or {}
    new = scene.pull
    for side in ("head", "base"):
        old_sha = (old_pull.get(side) or {}).get("sha")
        if old_sha:
            out = substitute(out, old_sha, new[side]["sha"])
    if old_pull.get("number") is not None:
        out = renumber(out, int(old_pull["number"]), int(new["number"]))
    if "number" in out:
        out["number"] = new["number"]
    pull = out.get("pull_request")
    if isinstance(pull, dict):
        pull["number"], pull["id"] = new["number"], new["id"]
        pull["user"] = deepcopy(dict(new["user"]))
        for side in ("head", "base"):
            for key in ("sha", "ref", "label"):
                pull.setdefault(side, {})[key] = new[side][key]
    review = out.get("review")
    if isinstance(review, dict) and scene.review is not None:
        r = scene.review
        review.update(
            id=r["id"],
            state=str(r["state"]).lower(),
            commit_id=r["commit_id"],
            user=deepcopy(dict(r["user"])),
        )
    out["sender"] = deepcopy(dict(scene.sender))
    return out


_NUMBERED = re.compile(r"(/(?:pulls|pull|issues)/)(\d+)(?=$|[/#?.])")


def renumber(value: Any, old: int, new: int) -> Any:
    """URLs naming pull request (or issue) `old` name `new` instead."""

    def swap(m: re.Match[str]) -> str:
        return f"{m.group(1)}{new}" if int(m.group(2)) == old else m.group(0)

    return map_strings(value, lambda s: _NUMBERED.sub(swap, s))
