"""GitHub's REST routes, one module per area; `build_router()` registers them in match order."""

from __future__ import annotations

from bot.emulator.api.router import Router
from bot.emulator.routes import apps, checks, contents, gitdata, issues, orgs, pulls, repos, users


def build_router() -> Router:
    router = Router()
    users.register(router)
    apps.register(router)
    orgs.register(router)
    checks.register(router)  # before /commits/{ref}: it owns /commits/{ref}/check-runs
    repos.register(router)
    contents.register(router)
    gitdata.register(router)
    pulls.register(router)
    issues.register(router)
    repos.register_late(router)
    return router
