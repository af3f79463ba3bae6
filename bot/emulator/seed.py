"""Build an emulated GitHub from a seed (YAML file or dict). Format: see README "Local GitHub".

Problems are reported as `SeedError` naming the file, line and column of the offending value
and what to do, e.g. `seed.yaml:7:22: repos[0].collaborators.bob: unknown user 'bob'
(add it under users:)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization

from bot.emulator.auth import DEFAULT_APP_PERMISSIONS
from bot.emulator.clock import parse_time
from bot.emulator.git import MODE_FILE, Signature
from bot.emulator.git.worktree import read_directory
from bot.emulator.state import ROLE_RANK, Hook, Installation, State
from bot.emulator.world import Options, World

SEED_AUTHOR = ("flagbot emulator", "emulator@flagbot.invalid")


class SeedError(ValueError):
    pass


@lru_cache(maxsize=16)
def public_key_of(private_pem: str) -> str:
    """The PEM public key of a PEM private key (loading checks the key, which is slow: cached)."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class _Where:
    """Finds the line and column of a value in the seed file, for error messages."""

    source: str
    root: yaml.Node | None

    def at(self, path: tuple[Any, ...]) -> str:
        node = self.root
        for key in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == key), None)
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(key, int)
                and key < len(node.value)
            ):
                node = node.value[key]
            else:
                node = None
            if node is None:
                break
        if node is None:
            return self.source
        return f"{self.source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


class _Loader:
    def __init__(self, seed: dict[str, Any], where: _Where, base_dir: Path) -> None:
        self.seed = seed
        self.where = where
        self.base_dir = base_dir
        self.world = World()
        self.private_keys: dict[int, str] = {}

    @property
    def state(self) -> State:
        return self.world.state

    def fail(self, path: tuple[Any, ...], message: str) -> SeedError:
        return SeedError(f"{self.where.at(path)}: {_dotted(path)}: {message}")

    def items(self, key: str) -> list[Any]:
        value = self.seed.get(key) or []
        if not isinstance(value, list):
            raise self.fail((key,), "must be a list")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail((key, i), "must be a mapping")
        return value

    def known_user(self, path: tuple[Any, ...], login: Any) -> str:
        if not isinstance(login, str) or login.lower() not in self.state.users:
            raise self.fail(path, f"unknown user {login!r} (add it under users:)")
        return self.state.users[login.lower()].login

    def load(self) -> World:
        unknown = set(self.seed) - {
            "users",
            "orgs",
            "apps",
            "repos",
            "webhooks",
            "clock",
            "options",
        }
        if unknown:
            raise self.fail(
                (sorted(unknown)[0],),
                "unknown key (expected users, orgs, apps, repos, webhooks, clock, options)",
            )
        if self.seed.get("clock"):
            try:
                self.world.clock.set(parse_time(str(self.seed["clock"])))
            except ValueError:
                raise self.fail(
                    ("clock",), "not an ISO 8601 time such as 2024-01-01T00:00:00Z"
                ) from None
        self.options()
        self.users()
        self.orgs()
        self.apps()
        self.repos()
        self.installations()
        self.webhooks()
        return self.world

    def options(self) -> None:
        opts = self.seed.get("options") or {}
        if not isinstance(opts, dict):
            raise self.fail(("options",), "must be a mapping")
        try:
            self.world.options = Options(**opts)
        except TypeError:
            known = ", ".join(Options.__dataclass_fields__)
            raise self.fail(("options",), f"unknown option (known: {known})") from None

    def users(self) -> None:
        for i, u in enumerate(self.items("users")):
            login = u.get("login")
            if not isinstance(login, str) or not login:
                raise self.fail(("users", i, "login"), "a login is required")
            if login.lower() in self.state.users:
                raise self.fail(("users", i, "login"), f"duplicate user {login!r}")
            token = u.get("token")
            if token is not None and (not isinstance(token, str) or token in self.state.tokens):
                raise self.fail(("users", i, "token"), "tokens must be distinct strings")
            self.state.add_user(
                login,
                token=token,
                kind="Bot" if u.get("type") == "Bot" else "User",
                name=u.get("name"),
                email=u.get("email"),
                site_admin=bool(u.get("site_admin", False)),
            )

    def orgs(self) -> None:
        for i, o in enumerate(self.items("orgs")):
            login = o.get("login")
            if not isinstance(login, str) or not login:
                raise self.fail(("orgs", i, "login"), "a login is required")
            if login.lower() in self.state.users or login.lower() in self.state.orgs:
                raise self.fail(("orgs", i, "login"), f"{login!r} is already an account")
            org = self.state.add_org(login)
            org.created_at = self.world.clock.now()
            org.description = o.get("description")
            org.account.name = o.get("name")
            org.account.email = o.get("email")
            for key in ("members", "owners"):
                for j, m in enumerate(o.get(key) or []):
                    getattr(org, key).add(self.known_user(("orgs", i, key, j), m))
            teams = o.get("teams") or []
            for j, t in enumerate(teams):
                slug = t.get("slug") if isinstance(t, dict) else None
                if not isinstance(slug, str) or not slug:
                    raise self.fail(("orgs", i, "teams", j), "a team needs a slug")
                team = self.state.add_team(
                    org,
                    slug,
                    name=t.get("name", slug),
                    description=t.get("description"),
                    privacy=t.get("privacy", "closed"),
                    created_at=self.world.clock.now(),
                )
                for key in ("members", "maintainers", "pending"):
                    for k, m in enumerate(t.get(key) or []):
                        getattr(team, key).add(self.known_user(("orgs", i, "teams", j, key, k), m))
            for j, t in enumerate(teams):
                parent = t.get("parent")
                if parent is not None:
                    if parent not in org.teams or parent == t["slug"]:
                        raise self.fail(
                            ("orgs", i, "teams", j, "parent"), f"unknown team {parent!r} in {login}"
                        )
                    org.teams[t["slug"]].parent = parent
            for t in org.teams.values():  # no cycles
                seen, cur = set(), t
                while cur.parent:
                    if cur.slug in seen:
                        raise self.fail(
                            ("orgs", i, "teams"), f"team parents form a cycle at {cur.slug!r}"
                        )
                    seen.add(cur.slug)
                    cur = org.teams[cur.parent]

    def apps(self) -> None:
        for i, a in enumerate(self.items("apps")):
            app_id, slug = a.get("id"), a.get("slug")
            if not isinstance(app_id, int) or app_id in self.state.apps:
                raise self.fail(("apps", i, "id"), "each app needs a distinct integer id")
            if not isinstance(slug, str) or not slug:
                raise self.fail(("apps", i, "slug"), "each app needs a slug")
            public_key = self.public_key(i, a)
            owner = a.get("owner")
            if owner is None:
                owner = next(iter(self.state.orgs.values())).login if self.state.orgs else None
            if owner is None or (
                owner.lower() not in self.state.orgs and owner.lower() not in self.state.users
            ):
                raise self.fail(
                    ("apps", i, "owner"), f"unknown owner {owner!r} (an org or user of the seed)"
                )
            from bot.emulator.state import App

            bot = self.state.add_user(f"{slug}[bot]", kind="Bot")
            permissions = dict(a.get("permissions") or DEFAULT_APP_PERMISSIONS)
            permissions.setdefault("metadata", "read")
            self.state.apps[app_id] = App(
                id=app_id,
                slug=slug,
                name=a.get("name", slug),
                owner=owner,
                public_key=public_key,
                bot=bot,
                permissions=permissions,
                events=list(
                    a.get("events")
                    or [
                        "pull_request",
                        "pull_request_review",
                        "check_run",
                        "check_suite",
                        "push",
                        "membership",
                    ]
                ),
                created_at=self.world.clock.now(),
            )
            self.state.ids.bump("app", app_id)
            hook = a.get("webhook")
            if hook:
                if isinstance(hook, dict) and "events" not in hook:
                    # an App is sent only the events it subscribes to
                    hook = {**hook, "events": self.state.apps[app_id].events}
                self.hook(("apps", i, "webhook"), hook, app_id=app_id)

    def public_key(self, i: int, a: dict[str, Any]) -> str:
        pem: str | None = None
        if a.get("private_key_path"):
            path = (self.base_dir / str(a["private_key_path"])).expanduser()
            try:
                pem = path.read_text()
            except OSError as e:
                raise self.fail(
                    ("apps", i, "private_key_path"), f"cannot read {path}: {e.strerror}"
                ) from None
        elif a.get("private_key"):
            pem = str(a["private_key"])
        if pem is not None:
            try:
                public = public_key_of(pem)
            except ValueError:
                raise self.fail(
                    ("apps", i), "the private key is not an unencrypted PEM RSA key"
                ) from None
            self.private_keys[a["id"]] = pem
            return public
        if a.get("public_key"):
            return str(a["public_key"])
        raise self.fail(("apps", i), "give private_key_path, private_key or public_key")

    def repos(self) -> None:
        for i, r in enumerate(self.items("repos")):
            full_name = r.get("full_name")
            if not isinstance(full_name, str) or full_name.count("/") != 1:
                raise self.fail(("repos", i, "full_name"), "expected owner/name")
            owner, name = full_name.split("/")
            if owner.lower() not in self.state.orgs and owner.lower() not in self.state.users:
                raise self.fail(
                    ("repos", i, "full_name"),
                    f"unknown owner {owner!r} (add it under users: or orgs:)",
                )
            if full_name.lower() in self.state.repos:
                raise self.fail(("repos", i, "full_name"), "duplicate repository")
            branch = r.get("default_branch", "main")
            repo = self.state.add_repo(
                owner,
                name,
                created_at=self.world.clock.now(),
                default_branch=branch,
                private=bool(r.get("private", False)),
                description=r.get("description"),
            )
            collaborators = r.get("collaborators") or {}
            if not isinstance(collaborators, dict):
                raise self.fail(("repos", i, "collaborators"), "must map login: role")
            for login, role in collaborators.items():
                path = ("repos", i, "collaborators", login)
                real = self.known_user(path, login)
                if role not in ROLE_RANK or role == "none":
                    raise self.fail(
                        path,
                        f"role must be one of admin, maintain, write, triage, read, not {role!r}",
                    )
                repo.collaborators[real] = role
            if r.get("teams") is not None:
                repo.teams = self.team_access(i, owner, r["teams"])
            for j, lab in enumerate(r.get("labels") or []):
                if not isinstance(lab, dict) or not lab.get("name"):
                    raise self.fail(("repos", i, "labels", j), "a label needs a name")
                from bot.emulator.state import Label

                repo.labels[lab["name"].lower()] = Label(
                    self.state.ids.next("label"),
                    lab["name"],
                    lab.get("color", "ededed"),
                    lab.get("description"),
                )
            self.first_commit(i, r, repo)

    def team_access(self, i: int, owner: str, teams: Any) -> dict[str, str]:
        path = ("repos", i, "teams")
        org = self.state.orgs.get(owner.lower())
        if org is None:
            raise self.fail(path, f"{owner!r} is not an organization, so it has no teams")
        if not isinstance(teams, dict):
            raise self.fail(path, "must map team slug: role")
        out = {}
        for slug, role in teams.items():
            if slug not in org.teams:
                raise self.fail((*path, slug), f"unknown team {slug!r} (add it under orgs:)")
            if role not in ROLE_RANK or role == "none":
                raise self.fail(
                    (*path, slug),
                    f"role must be one of admin, maintain, write, triage, read, not {role!r}",
                )
            out[slug] = role
        return out

    def first_commit(self, i: int, r: dict[str, Any], repo) -> None:
        files: dict[str, tuple[str, bytes]] = {}
        if r.get("from") is not None:
            source = (self.base_dir / str(r["from"])).expanduser()
            try:
                files.update(read_directory(source))
            except FileNotFoundError:
                raise self.fail(("repos", i, "from"), f"{source} is not a directory") from None
        inline = r.get("files") or {}
        if not isinstance(inline, dict):
            raise self.fail(("repos", i, "files"), "must map path: content")
        for path, content in inline.items():
            if content is None:
                files.pop(str(path), None)
                continue
            data = content.encode() if isinstance(content, str) else str(content).encode()
            files[str(path).strip("/")] = (MODE_FILE, data)
        if not files:
            return
        git = repo.git
        flat = {path: (mode, git.store.put_blob(data)) for path, (mode, data) in files.items()}
        try:
            tree = git.trees.build(flat)
        except ValueError as e:
            raise self.fail(("repos", i, "files"), str(e)) from None
        initial = r.get("initial_commit") or {}
        when = self.world.clock.now()
        if initial.get("date"):
            when = parse_time(str(initial["date"]))
        name, email = SEED_AUTHOR
        author = Signature(
            initial.get("author_name", name), initial.get("author_email", email), when
        )
        sha = git.commit(tree, (), initial.get("message", "Initial commit"), author)
        git.refs[f"refs/heads/{repo.default_branch}"] = sha
        repo.pushed_at = when

    def installations(self) -> None:
        for i, a in enumerate(self.items("apps")):
            for j, inst in enumerate(a.get("installations") or []):
                path = ("apps", i, "installations", j)
                inst_id, account = inst.get("id"), inst.get("account")
                if not isinstance(inst_id, int) or inst_id in self.state.installations:
                    raise self.fail((*path, "id"), "each installation needs a distinct integer id")
                if not isinstance(account, str) or (
                    account.lower() not in self.state.orgs
                    and account.lower() not in self.state.users
                ):
                    raise self.fail((*path, "account"), f"unknown account {account!r}")
                repos = inst.get("repositories", "all")
                if repos != "all":
                    if not isinstance(repos, list):
                        raise self.fail((*path, "repositories"), "a list of owner/name, or all")
                    for k, full in enumerate(repos):
                        if not isinstance(full, str) or full.lower() not in self.state.repos:
                            raise self.fail(
                                (*path, "repositories", k), f"unknown repository {full!r}"
                            )
                app = self.state.apps[a["id"]]
                self.state.installations[inst_id] = Installation(
                    id=inst_id,
                    app_id=app.id,
                    account=account,
                    repositories=None if repos == "all" else list(repos),
                    permissions=dict(inst.get("permissions") or app.permissions),
                    created_at=self.world.clock.now(),
                )
                self.state.ids.bump("installation", inst_id)

    def hook(self, path: tuple[Any, ...], h: Any, app_id: int | None = None) -> Hook:
        if not isinstance(h, dict) or not isinstance(h.get("url"), str):
            raise self.fail(path, "a webhook needs a url")
        events = h.get("events") or ["*"]
        hook = Hook(
            id=self.state.ids.next("hook"),
            url=h["url"],
            secret=h.get("secret"),
            events=list(events),
            active=bool(h.get("active", True)),
            repos=h.get("repos"),
            app_id=app_id,
            created_at=self.world.clock.now(),
        )
        self.state.hooks[hook.id] = hook
        return hook

    def webhooks(self) -> None:
        for i, h in enumerate(self.items("webhooks")):
            app_id = None
            if h.get("app") is not None:
                app = next(
                    (a for a in self.state.apps.values() if h["app"] in (a.id, a.slug)), None
                )
                if app is None:
                    raise self.fail(("webhooks", i, "app"), f"unknown app {h['app']!r}")
                app_id = app.id
            for j, full in enumerate(h.get("repos") or []):
                if full.lower() not in self.state.repos:
                    raise self.fail(("webhooks", i, "repos", j), f"unknown repository {full!r}")
            self.hook(("webhooks", i), h, app_id)


def load_seed(
    seed: dict[str, Any] | str | Path, base_dir: str | Path | None = None
) -> tuple[World, dict[int, str]]:
    """(world, {app id: private key PEM}) from a seed dict, a YAML file path, or YAML text."""
    where = _Where("<seed>", None)
    if isinstance(seed, Path) or (
        isinstance(seed, str) and "\n" not in seed and seed.endswith((".yml", ".yaml"))
    ):
        path = Path(seed)
        try:
            text = path.read_text()
        except OSError as e:
            raise SeedError(f"{path}: cannot read the seed file: {e.strerror}") from None
        base = Path(base_dir) if base_dir else path.resolve().parent
        where = _Where(str(path), None)
        seed = text
    else:
        base = Path(base_dir) if base_dir else Path.cwd()
    if isinstance(seed, str):
        try:
            root = yaml.compose(seed, Loader=yaml.SafeLoader)
            data = yaml.safe_load(seed)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f"{where.source}:{mark.line + 1}:{mark.column + 1}" if mark else where.source
            raise SeedError(f"{at}: not valid YAML: {getattr(e, 'problem', e)}") from None
        where = _Where(where.source, root)
        seed = data if data is not None else {}
    if not isinstance(seed, dict):
        raise SeedError(f"{where.source}: the seed must be a mapping with users, orgs, repos, ...")
    loader = _Loader(seed, where, base)
    return loader.load(), loader.private_keys
