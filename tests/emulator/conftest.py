from bot.emulator.testing import emulator, github, github_url  # noqa: F401
