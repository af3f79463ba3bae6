"""One person, one role: which approver stands for which role in a pull request.

Each (change, role) pair needs an approver who can act for it (`can_act(login, eligible
owners)`); every approver holds at most one role across the whole pull request. The best
assignment satisfies the most roles in workflow order (manager before QA), then covers the most
pairs. Only a few approvers per pair can matter, so an exhaustive search over them is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

MAX_EXHAUSTIVE = 8  # people eligible for something; beyond this a greedy pass decides


def assign_roles(
    order: Sequence[str],
    needs: Sequence[tuple[Any, str, tuple[str, ...]]],
    approvers: Sequence[str],
    can_act: Callable[[str, Sequence[str]], bool],
) -> dict[str, str]:
    """Give each approver at most one role so that roles are satisfied in workflow order.

    Best assignment = the most leading roles fully satisfied, then the most (change, role) pairs
    covered. Backtracking over the few people eligible for anything; pull requests have a
    handful of reviewers.
    """
    options: dict[str, list[str]] = {}
    for u in approvers:
        roles = [role for role in order if any(r == role and can_act(u, e) for _, r, e in needs)]
        if roles:
            options[u] = roles
    # A best assignment needs at most one holder per (change, role) pair, so the first
    # len(needs) approvers eligible for each pair are enough to find one (an idle one among
    # them can always stand in for anybody else): many approvers still get the full search.
    kept: set[str] = set()
    for _, role, e in needs:
        kept.update(
            [u for u in sorted(options) if role in options[u] and can_act(u, e)][: len(needs)]
        )
    people = sorted(kept)

    def score(assign: dict[str, str]) -> tuple[int, int]:
        leading = 0
        covered = 0
        still_leading = True
        for role in order:
            pairs = [e for _, r, e in needs if r == role]
            holders = [u for u, r in assign.items() if r == role]
            hit = sum(1 for e in pairs if any(can_act(u, e) for u in holders))
            covered += hit
            if still_leading and hit == len(pairs):
                leading += 1
            else:
                still_leading = False
        return leading, covered

    best: dict[str, str] = {}
    best_score = score(best)
    current: dict[str, str] = {}

    def walk(i: int) -> None:
        nonlocal best, best_score
        if i == len(people):
            s = score(current)
            if s > best_score:
                best, best_score = dict(current), s
            return
        u = people[i]
        for role in options[u]:
            current[u] = role
            walk(i + 1)
            del current[u]
        walk(i + 1)  # this person holds no role

    if len(people) <= MAX_EXHAUSTIVE:
        walk(0)
    else:  # pathological: each pair in workflow order, the least versatile approver first
        for role in order:
            for _, r, e in needs:
                if r != role or any(best.get(u) == role and can_act(u, e) for u in people):
                    continue
                free = [u for u in people if u not in best and can_act(u, e)]
                if free:
                    best[min(free, key=lambda u: (len(options[u]), u))] = role
    return best
