"""`.github/flagbot.yml` as plain data, and the one question asked of it: which roles must approve.

Precedence for the roles a change requires (first that applies wins):
1. the first entry of `require.rules` whose `when` matches the change;
2. `require.change_types[<change type>]`;
3. `require.environments[<environment>]`;
4. `require.default` (itself defaulting to `[manager, qa]`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from bot.flags.guard import NO_GUARD, Guard
from bot.flags.model import DEFAULT_ENVIRONMENT, DEFAULT_EVERY, DEFAULT_STAGES

ChangeType = Literal["create", "update", "delete", "toggle", "rollout"]
CHANGE_TYPES: tuple[ChangeType, ...] = ("create", "update", "delete", "toggle", "rollout")
MergeMethod = Literal["merge", "squash", "rebase"]
DEFAULT_ROLES: tuple[str, ...] = ("manager", "qa")


@dataclass(frozen=True, slots=True)
class RuleCondition:
    """All given fields must match. `enabled` compares the flag's `enabled` after the change."""

    environment: str | None = None
    change_type: ChangeType | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class RequirementRule:
    name: str
    when: RuleCondition
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Requirements:
    default: tuple[str, ...] = DEFAULT_ROLES
    environments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    change_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rules: tuple[RequirementRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Channel:
    """A notification channel. Secrets (URLs, SMTP credentials) come from environment variables
    named here, never from the file."""

    type: Literal["slack", "webhook", "email"]
    name: str
    url_env: str | None = None  # slack, webhook: env var holding the URL; email: SMTP URL
    to: tuple[str, ...] = ()  # email recipients
    sender: str | None = None  # email From
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RolloutDefaults:
    stages: tuple[float, ...] = DEFAULT_STAGES
    every: timedelta = DEFAULT_EVERY
    guard: Guard = NO_GUARD  # for every staged flag whose file has no rollout.guard


OnExpire = Literal["fail", "close"]


@dataclass(frozen=True, slots=True)
class ApprovalTimeout:
    """How long a pull request may wait for approvals on one head commit (`approval:`):
    remind once after `remind_after`, expire once after `expire_after` (fail its check run, or
    also close it). The defaults are litestar-flags' declared 72 h manager-approval timeout."""

    remind_after: timedelta = timedelta(hours=24)
    expire_after: timedelta = timedelta(hours=72)
    on_expire: OnExpire = "fail"


@dataclass(frozen=True, slots=True)
class Policy:
    roles: dict[str, tuple[str, ...]]  # role -> owners ("@org/team", "@user", e-mail)
    requirements: Requirements = field(default_factory=Requirements)
    default_environment: str = DEFAULT_ENVIRONMENT
    environments: tuple[str, ...] = ()  # empty: any folder name is an environment
    merge_method: MergeMethod = "squash"
    notify_on_complete: bool = True
    channels: tuple[Channel, ...] = ()
    rollout: RolloutDefaults = field(default_factory=RolloutDefaults)
    approval: ApprovalTimeout = field(default_factory=ApprovalTimeout)
    exports: tuple[str, ...] = ()  # flagd, unleash: formats every flag must be expressible in
    usable: bool = True  # False only for NULL_POLICY

    @property
    def is_null(self) -> bool:
        """flagbot.yml was missing or invalid: the defaults place flags, nothing approves."""
        return not self.usable

    def required_roles(
        self, environment: str, change_type: ChangeType, enabled_after: bool | None
    ) -> tuple[str, ...]:
        req = self.requirements
        for rule in req.rules:
            w = rule.when
            if w.environment is not None and w.environment != environment:
                continue
            if w.change_type is not None and w.change_type != change_type:
                continue
            if w.enabled is not None and w.enabled != enabled_after:
                continue
            return rule.roles
        if change_type in req.change_types:
            return req.change_types[change_type]
        if environment in req.environments:
            return req.environments[environment]
        return req.default

    def roles_of_owner(self, owner: str) -> tuple[str, ...]:
        """The roles an owner entry (as written in CODEOWNERS) is mapped to, case-insensitively."""
        o = owner.lower()
        return tuple(
            role for role, owners in self.roles.items() if o in {x.lower() for x in owners}
        )


# What a missing or invalid flagbot.yml reads as. Fail-closed by construction: it maps no role to
# anybody, so no change can be approved, and the decision rejects it before asking (`is_null`).
# Its other fields are the defaults, which is what a checkout without flagbot.yml runs with.
NULL_POLICY = Policy(roles={}, usable=False)
