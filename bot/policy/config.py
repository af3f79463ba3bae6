"""`.github/flagbot.yml` -> `Policy`, or the problems, each at its line.

The smallest valid file names only `roles`; everything else has a default (see
`bot/policy/model.py`). Secrets never live in this file: notification channels name the
environment variables that hold their URLs, so the file can be read by anyone with the repo.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.diagnostics import Diagnostic
from bot.flags.guard import read_guard
from bot.flags.location import NAME_RULE, valid_name
from bot.flags.model import DEFAULT_ENVIRONMENT
from bot.flags.plan import read_every, read_stages
from bot.policy.model import (
    CHANGE_TYPES,
    DEFAULT_ROLES,
    NULL_POLICY,
    ApprovalTimeout,
    Channel,
    Policy,
    RequirementRule,
    Requirements,
    RolloutDefaults,
    RuleCondition,
)
from bot.yamlfields import MISSING, Fields, label, suggest
from bot.yamlsafe import Path, load_mapping

POLICY_PATH = ".github/flagbot.yml"
POLICY_FIELDS = (
    "roles", "require", "merge_method", "notify_on_complete", "notifications", "rollout",
    "default_environment", "environments", "approval", "exports",
)  # fmt: skip
APPROVAL_FIELDS = ("remind_after", "expire_after", "on_expire")
ON_EXPIRE = ("fail", "close")
EXPORT_TARGETS = ("flagd", "unleash")  # bot.exports.TARGETS: what `exports:` may list
REQUIRE_FIELDS = ("default", "environments", "change_types", "rules")
REQUIRE_RULE_FIELDS = ("name", "when", "roles")
WHEN_FIELDS = ("environment", "change_type", "enabled")
MERGE_METHODS = ("merge", "squash", "rebase")
CHANNEL_TYPES = ("slack", "webhook", "email")
CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("type", "url_env"),
    "webhook": ("type", "url_env", "secret_env"),
    "email": ("type", "smtp_env", "to", "from"),
}
CHANNEL_REQUIRED: dict[str, tuple[str, ...]] = {
    "slack": ("url_env",),
    "webhook": ("url_env",),
    "email": ("smtp_env", "to"),
}
ROLLOUT_DEFAULT_FIELDS = ("stages", "every", "guard")
# Keys people reach for when they paste a secret in; each gets the env-var advice instead.
SECRET_KEYS = ("url", "webhook_url", "webhook", "smtp", "smtp_url", "password", "token", "secret")

OWNER_PATTERN = re.compile(
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?"
    r"|[^@\s]+@[^@\s]+\.[^@\s]+"
)
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ENV_VAR_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ROLE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def load_policy(data: bytes, path: str = POLICY_PATH) -> tuple[Policy, list[Diagnostic]]:
    """Read `flagbot.yml`. The Policy is NULL_POLICY whenever there is an error."""
    doc, problems = load_mapping(data, path, kind="flagbot.yml")
    if doc is None:
        return NULL_POLICY, problems
    fields = Fields(doc)
    policy = _PolicyReader(fields).read(doc.data)
    return (policy if fields.ok else NULL_POLICY), fields.diagnostics


class _PolicyReader:
    __slots__ = ("environments", "f", "roles")

    def __init__(self, fields: Fields) -> None:
        self.f = fields
        self.roles: dict[str, tuple[str, ...]] = {}
        self.environments: tuple[str, ...] = ()

    def read(self, m: dict[Any, Any]) -> Policy:
        f = self.f
        f.known_keys(m, (), POLICY_FIELDS)
        if "roles" not in m:
            f.error(
                (),
                "flagbot.yml needs `roles:` mapping each role to its owners, e.g. "
                'manager: ["@org/managers"] and qa: ["@org/qa"]',
                "missing-field",
                key=True,
            )
        else:
            self.roles = self.read_roles(m["roles"])
        self.environments = self.read_environments(m)
        default_env = self.environment_name(
            m.get("default_environment", DEFAULT_ENVIRONMENT), ("default_environment",)
        )
        if default_env and self.environments and default_env not in self.environments:
            f.error(
                ("default_environment",) if "default_environment" in m else ("environments",),
                f"the default environment {default_env!r} (for files directly in flags/) is "
                "not listed in environments; add it there",
                "unknown-environment",
            )
        requirements = self.read_require(m.get("require", MISSING))
        merge_method = f.choice(m.get("merge_method", "squash"), ("merge_method",), MERGE_METHODS)
        notify = f.boolean(m.get("notify_on_complete", True), ("notify_on_complete",))
        channels = self.read_channels(m["notifications"]) if "notifications" in m else ()
        rollout = self.read_rollout(m["rollout"]) if "rollout" in m else RolloutDefaults()
        approval = self.read_approval(m["approval"]) if "approval" in m else ApprovalTimeout()
        exports = self.read_exports(m["exports"]) if "exports" in m else ()
        if not f.ok:
            return NULL_POLICY
        return Policy(
            roles=self.roles,
            requirements=requirements,  # type: ignore[arg-type]
            default_environment=default_env,  # type: ignore[arg-type]
            environments=self.environments,
            merge_method=merge_method,  # type: ignore[arg-type]
            notify_on_complete=notify,  # type: ignore[arg-type]
            channels=channels,
            rollout=rollout,  # type: ignore[arg-type]
            approval=approval,  # type: ignore[arg-type]
            exports=exports,
        )

    # -- roles and environments -------------------------------------------------------------

    def read_roles(self, value: Any) -> dict[str, tuple[str, ...]]:
        f = self.f
        m = f.string_keyed(value, ("roles",), "the role")
        roles: dict[str, tuple[str, ...]] = {}
        for role, owners_value in (m or {}).items():
            if not isinstance(role, str):
                continue
            at = ("roles", role)
            if not ROLE_PATTERN.fullmatch(role):
                f.error(
                    at,
                    f"role name {role!r} must be a word (letters, digits, _ and -)",
                    "bad-format",
                    key=True,
                )
                continue
            owners = f.strings(owners_value, at, nonempty=True, single_ok=True)
            roles[role] = owners or ()  # known even when its owners are wrong: one error, not two
            if owners is None:
                continue
            for i, owner in enumerate(owners):
                where = at if isinstance(owners_value, str) else (*at, i)
                if not OWNER_PATTERN.fullmatch(owner):
                    f.error(
                        where,
                        f"owner {owner!r} of role {role!r} must be @user, @org/team or an "
                        "e-mail address, as in CODEOWNERS",
                        "bad-owner",
                    )
        return roles

    def read_environments(self, m: dict[Any, Any]) -> tuple[str, ...]:
        if "environments" not in m:
            return ()
        names = self.f.strings(m["environments"], ("environments",), nonempty=True)
        if names is None:
            return ()
        seen: set[str] = set()
        for i, name in enumerate(names):
            self.environment_name(name, ("environments", i), known_only=False)
            if name in seen:
                self.f.error(
                    ("environments", i), f"environment {name!r} is listed twice", "duplicate"
                )
            seen.add(name)
        return names

    def environment_name(
        self, value: Any, where: Path, *, known_only: bool = False, key: bool = False
    ) -> str | None:
        name = self.f.string(value, where)
        if name is None:
            return None
        if not valid_name(name):
            self.f.error(
                where,
                f"environment {name!r} is not a valid folder name: use {NAME_RULE}",
                "bad-format",
                key=key,
            )
            return None
        if known_only and self.environments and name not in self.environments:
            self.f.error(
                where,
                f"environment {name!r} is not in environments{suggest(name, self.environments)}",
                "unknown-environment",
                key=key,
            )
            return None
        return name

    def role_list(self, value: Any, where: Path) -> tuple[str, ...] | None:
        """Roles a change needs: at least one, each defined under `roles`."""
        names = self.f.strings(value, where, nonempty=True, single_ok=True)
        if names is None:
            return None
        ok = True
        for i, name in enumerate(names):
            if name not in self.roles:
                at = where if isinstance(value, str) else (*where, i)
                close = suggest(name, tuple(self.roles)) if self.roles else ""
                hint = f" ({close[2:]})" if "did you mean" in close else ""
                self.f.error(
                    at,
                    f"role {name!r} is not defined under roles{hint}; add it to roles with "
                    "its owners or fix the name",
                    "unknown-role",
                )
                ok = False
        return names if ok else None

    # -- require ----------------------------------------------------------------------------

    def read_require(self, value: Any) -> Requirements | None:
        f = self.f
        if value is MISSING:
            return Requirements() if self.default_roles_defined() else None
        where: Path = ("require",)
        m = f.mapping(value, where)
        if m is None:
            return None
        f.known_keys(m, where, REQUIRE_FIELDS)
        if "default" in m:
            default = self.role_list(m["default"], (*where, "default"))
        else:
            default = DEFAULT_ROLES if self.default_roles_defined() else None
        environments: dict[str, tuple[str, ...]] = {}
        if "environments" in m:
            at = (*where, "environments")
            for env, roles in (f.string_keyed(m["environments"], at, "environment") or {}).items():
                if not isinstance(env, str):
                    continue
                if self.environment_name(env, (*at, env), known_only=True, key=True):
                    names = self.role_list(roles, (*at, env))
                    if names:
                        environments[env] = names
        change_types: dict[str, tuple[str, ...]] = {}
        if "change_types" in m:
            at = (*where, "change_types")
            kinds = f.string_keyed(m["change_types"], at, "change type") or {}
            f.known_keys({k: v for k, v in kinds.items() if isinstance(k, str)}, at, CHANGE_TYPES)
            for kind, roles in kinds.items():
                if kind in CHANGE_TYPES:
                    names = self.role_list(roles, (*at, kind))
                    if names:
                        change_types[kind] = names
        rules = self.read_rules(m["rules"]) if "rules" in m else ()
        if default is None or rules is None:
            return None
        return Requirements(default, environments, change_types, rules)

    def default_roles_defined(self) -> bool:
        """Without `require.default` every change needs manager and qa: both must be roles."""
        missing = [r for r in DEFAULT_ROLES if r not in self.roles]
        if missing and isinstance(self.f.doc.data.get("roles"), dict):
            self.f.error(
                ("roles",),
                f"roles must define {' and '.join(missing)}: by default every change needs "
                f"{' and '.join(DEFAULT_ROLES)} (or set require.default to the roles you use)",
                "missing-role",
                key=True,
            )
        return not missing

    def read_rules(self, value: Any) -> tuple[RequirementRule, ...] | None:
        f = self.f
        items = f.sequence(value, ("require", "rules"))
        if items is None:
            return None
        rules: list[RequirementRule] = []
        names: set[str] = set()
        for i, item in enumerate(items):
            where: Path = ("require", "rules", i)
            m = f.mapping(item, where)
            if m is None:
                continue
            f.known_keys(m, where, REQUIRE_RULE_FIELDS)
            for part in REQUIRE_RULE_FIELDS:
                if part not in m:
                    f.error(
                        where,
                        f"{label(where)} needs `{part}:` (a rule has name, when and roles)",
                        "missing-field",
                        key=True,
                    )
            name = f.string(m["name"], (*where, "name")) if "name" in m else None
            if name is not None and name in names:
                f.error(
                    (*where, "name"),
                    f"two rules are named {name!r}; give each its own name",
                    "duplicate",
                )
            names.add(name or "")
            when = self.read_when(m["when"], (*where, "when")) if "when" in m else None
            roles = self.role_list(m["roles"], (*where, "roles")) if "roles" in m else None
            if name is not None and when is not None and roles is not None:
                rules.append(RequirementRule(name, when, roles))
        return tuple(rules) if f.ok else None

    def read_when(self, value: Any, where: Path) -> RuleCondition | None:
        f = self.f
        m = f.mapping(value, where)
        if m is None:
            return None
        f.known_keys(m, where, WHEN_FIELDS)
        if not any(k in m for k in WHEN_FIELDS):
            f.error(
                where,
                f"{label(where)} needs at least one of environment, change_type, enabled "
                "(a rule for every change is require.default)",
                "missing-field",
                key=True,
            )
            return None
        env = change_type = enabled = None
        if "environment" in m:
            env = self.environment_name(m["environment"], (*where, "environment"), known_only=True)
        if "change_type" in m:
            change_type = f.choice(m["change_type"], (*where, "change_type"), CHANGE_TYPES)
        if "enabled" in m:
            enabled = f.boolean(m["enabled"], (*where, "enabled"))
        return RuleCondition(env, change_type, enabled)  # type: ignore[arg-type]

    # -- notifications and rollout defaults -------------------------------------------------

    def read_channels(self, value: Any) -> tuple[Channel, ...]:
        f = self.f
        channels: list[Channel] = []
        named = f.string_keyed(value, ("notifications",), "the channel") or {}
        for name, settings in named.items():
            if not isinstance(name, str):
                continue
            channel = self.read_channel(name, settings, ("notifications", name))
            if channel:
                channels.append(channel)
        return tuple(channels)

    def read_channel(self, name: str, value: Any, where: Path) -> Channel | None:
        f = self.f
        m = f.mapping(value, where)
        if m is None:
            return None
        if "type" not in m:
            f.error(
                where,
                f"channel {name!r} needs `type:` (one of {', '.join(CHANNEL_TYPES)})",
                "missing-field",
                key=True,
            )
            return None
        kind = f.choice(m["type"], (*where, "type"), CHANNEL_TYPES)
        if kind is None:
            return None
        env_key = "smtp_env" if kind == "email" else "url_env"
        for key in m:
            if key in SECRET_KEYS:
                f.error(
                    (*where, key),
                    f"do not write URLs or secrets in flagbot.yml (everyone who can read the "
                    f"repository sees them): put it in an environment variable and name the "
                    f"variable instead, e.g. {env_key}: FLAGBOT_{name.upper().replace('-', '_')}"
                    f"_{'SMTP_URL' if kind == 'email' else 'URL'}",
                    "secret-in-file",
                    key=True,
                )
        f.known_keys(
            {k: v for k, v in m.items() if k not in SECRET_KEYS}, where, CHANNEL_FIELDS[kind]
        )
        for part in CHANNEL_REQUIRED[kind]:
            if part not in m:
                f.error(where, f"{_a(kind)} channel needs `{part}:`", "missing-field", key=True)
        env = self.env_var(m[env_key], (*where, env_key)) if env_key in m else None
        to: tuple[str, ...] = ()
        sender = None
        if kind == "email":
            to = self.emails(m["to"], (*where, "to")) if "to" in m else ()
            if "from" in m:
                sender = self.email(m["from"], (*where, "from"))
        options: dict[str, Any] = {}
        if kind == "webhook" and "secret_env" in m:
            # The receiver verifies X-Flagbot-Signature-256 with the secret this variable holds.
            secret_env = self.env_var(m["secret_env"], (*where, "secret_env"))
            if secret_env:
                options["secret_env"] = secret_env
        if env is None:
            return None
        return Channel(
            type=kind,  # type: ignore[arg-type]
            name=name,
            url_env=env,
            to=to,
            sender=sender,
            options=options,
        )

    def env_var(self, value: Any, where: Path) -> str | None:
        name = self.f.string(value, where)
        if name is None:
            return None
        if "://" in name or "@" in name:
            self.f.error(
                where,
                f"{label(where)} names an environment variable (like FLAGBOT_SLACK_URL), not "
                "the URL itself: put the URL in that variable where flagbot runs",
                "secret-in-file",
            )
            return None
        if not ENV_VAR_PATTERN.fullmatch(name):
            self.f.error(
                where,
                f"{label(where)} {name!r} is not an environment variable name "
                "(letters, digits and _, not starting with a digit)",
                "bad-format",
            )
            return None
        return name

    def email(self, value: Any, where: Path) -> str | None:
        address = self.f.string(value, where)
        if address is not None and not EMAIL_PATTERN.fullmatch(address):
            self.f.error(
                where, f"{label(where)} {address!r} is not an e-mail address", "bad-format"
            )
            return None
        return address

    def emails(self, value: Any, where: Path) -> tuple[str, ...]:
        addresses = self.f.strings(value, where, nonempty=True, single_ok=True) or ()
        for i, address in enumerate(addresses):
            self.email(address, where if isinstance(value, str) else (*where, i))
        return addresses

    def read_rollout(self, value: Any) -> RolloutDefaults | None:
        f = self.f
        where: Path = ("rollout",)
        m = f.mapping(value, where)
        if m is None:
            return None
        f.known_keys(m, where, ROLLOUT_DEFAULT_FIELDS)
        defaults = RolloutDefaults()
        stages = _field(f, m, where, "stages", read_stages, defaults.stages)
        every: timedelta | None = _field(f, m, where, "every", read_every, defaults.every)
        guard = _field(f, m, where, "guard", read_guard, defaults.guard)
        if stages is None or every is None or guard is None:
            return None
        return RolloutDefaults(stages, every, guard)

    def read_approval(self, value: Any) -> ApprovalTimeout | None:
        f = self.f
        where: Path = ("approval",)
        m = f.mapping(value, where)
        if m is None:
            return None
        f.known_keys(m, where, APPROVAL_FIELDS)
        d = ApprovalTimeout()
        remind = _field(f, m, where, "remind_after", read_every, d.remind_after)
        expire = _field(f, m, where, "expire_after", read_every, d.expire_after)
        on_expire = f.choice(m.get("on_expire", d.on_expire), (*where, "on_expire"), ON_EXPIRE)
        if remind is None or expire is None or on_expire is None:
            return None
        if remind >= expire:
            f.error(
                (*where, "remind_after"),
                "approval.remind_after must be shorter than approval.expire_after, or the "
                "reminder would come after the pull request expired",
                "out-of-range",
            )
            return None
        return ApprovalTimeout(remind, expire, on_expire)  # type: ignore[arg-type]

    def read_exports(self, value: Any) -> tuple[str, ...]:
        """The export formats every flag must be expressible in (`flagbot validate` checks)."""
        targets = self.f.strings(value, ("exports",), single_ok=True) or ()
        for i, target in enumerate(targets):
            self.f.choice(target, ("exports",) if isinstance(value, str) else ("exports", i),
                          EXPORT_TARGETS)  # fmt: skip
        return targets


def _field(f: Any, m: dict[Any, Any], where: Path, key: str, read: Any, default: Any) -> Any:
    """`m[key]` read by `read` at `where.key`, or the default when the key is absent."""
    return read(f, m[key], (*where, key)) if key in m else default


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"
