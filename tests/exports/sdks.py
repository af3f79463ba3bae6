"""The real evaluators, reading flagbot's exports offline: the flagd provider in-process from
a file, and the Unleash SDK bootstrapped from a document (no server, no metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.exports import encode, unleash

try:
    from openfeature import api
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType
    from openfeature.evaluation_context import EvaluationContext
    from UnleashClient import UnleashClient
    from UnleashClient.cache import FileCache
except ImportError as exc:  # pragma: no cover - the test extra installs them
    pytest.skip(
        f"the real evaluators are not installed ({exc}); install the test extra: "
        "pip install -e '.[test]'",
        allow_module_level=True,
    )


class Flagd:
    """An OpenFeature client over the flagd in-process provider with a file source."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def value(self, flag_type: str, key: str, targeting_key: str | None, attrs: dict) -> Any:
        ctx = EvaluationContext(targeting_key, dict(attrs))
        getter = {
            "boolean": self.client.get_boolean_details,
            "string": self.client.get_string_details,
            "number": self.client.get_float_details,
            "json": self.client.get_object_details,
        }[flag_type]
        fallback = {"boolean": None, "string": None, "number": None, "json": None}[flag_type]
        details = getter(key, fallback, ctx)
        assert details.error_code is None, (key, details)
        return details.value


@contextmanager
def flagd_reading(path: Path) -> Iterator[Flagd]:
    provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=str(path))
    api.set_provider_and_wait(provider)  # not set_provider: it answers NOT_READY at first
    try:
        yield Flagd(api.get_client())
    finally:
        api.shutdown()


class Unleash:
    def __init__(self, client: Any) -> None:
        self.client = client

    def value(self, flag_type: str, key: str, targeting_key: str | None, attrs: dict) -> Any:
        context: dict[str, Any] = {"properties": dict(attrs)}
        if targeting_key is not None:
            context["userId"] = targeting_key
        if flag_type == "boolean":
            return self.client.is_enabled(key, context)
        return unleash.served(flag_type, self.client.get_variant(key, context), True)


@contextmanager
def unleash_reading(document: dict[str, Any], cache_dir: Path) -> Iterator[Unleash]:
    """The SDK bootstrapped from the export as `flagbot export` writes it to a file."""
    path = cache_dir / "production.unleash.json"
    path.write_bytes(encode(document, indent=2))
    cache = FileCache("flagbot-tests", directory=str(cache_dir))
    cache.bootstrap_from_file(path)
    client = UnleashClient(
        url="http://127.0.0.1:9/api",  # never contacted: fetch_toggles=False
        app_name="flagbot-tests",
        cache=cache,
        disable_metrics=True,
        disable_registration=True,
    )
    client.initialize_client(fetch_toggles=False)
    try:
        yield Unleash(client)
    finally:
        client.destroy()


class PollingUnleash(Unleash):
    async def poll(self) -> None:
        """One poll now (the SDK's own timer is set far off so tests never wait on it).
        Private to the pinned SDK version: its polling connector's fetch."""
        await self.client._connector._fetch_and_load()


@asynccontextmanager
async def served_by_unleash_polling(
    url: str, token: str, cache_dir: Path
) -> AsyncIterator[PollingUnleash]:
    """The real async Unleash SDK reading `flagbot serve` over HTTP (`url` ends in /api)."""
    from UnleashClient import AsyncUnleashClient

    client = AsyncUnleashClient(
        url=url,
        app_name="flagbot-tests",
        refresh_interval=3600,
        disable_metrics=True,
        disable_registration=True,
        custom_headers={"Authorization": token},  # as Unleash SDKs send it: no Bearer
        cache=FileCache("flagbot-polling", directory=str(cache_dir)),
    )
    await client.initialize_client()
    try:
        assert client.feature_definitions(), "the SDK read no features from flagbot serve"
        yield PollingUnleash(client)
    finally:
        await client.destroy()
