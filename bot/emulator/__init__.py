"""A local GitHub: a stateful emulator of GitHub's REST API and webhooks.

flagbot's tests, benchmarks and demo run against it; gidgethub and PyGithub talk to it
unchanged, pointed at it by base URL. Start here: `Emulator.from_seed(...)`, then
`async with emulator.serve() as server:` (or `with emulator.serve_in_thread() as url:`).
"""

from bot.emulator.emulator import Emulator, Result, Server
from bot.emulator.people import ApiCallFailed, Person
from bot.emulator.seed import SeedError

__all__ = ["ApiCallFailed", "Emulator", "Person", "Result", "SeedError", "Server"]
