"""A flags repository's starting files, rendered from the templates shipped in the package.

Templates hold `<<name>>` placeholders (workflow files are full of `${{ }}`, so no `$` or
`{}` syntax); rendering fails loudly on an unknown or leftover placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from bot.release import HOME_REPOSITORY, RELEASE_TAG, schema_url

PLACEHOLDER = re.compile(r"<<(\w+)>>")

# Repository path -> template file (in bot/scaffold/templates/).
TEMPLATES: dict[str, str] = {
    "flags/example_flag.yaml": "example_flag.yaml.tmpl",
    ".github/flagbot.yml": "flagbot.yml.tmpl",
    ".github/CODEOWNERS": "CODEOWNERS.tmpl",
    ".github/workflows/flagbot-validate.yml": "validate.yml.tmpl",
    ".github/workflows/flagbot-rollout.yml": "rollout.yml.tmpl",
    ".pre-commit-config.yaml": "pre-commit-config.yaml.tmpl",
}


@dataclass(frozen=True, slots=True)
class Pin:
    """Which flagbot a repository runs: `ref` as written after `@`, `label` the tag it is."""

    ref: str
    label: str

    @property
    def uses_suffix(self) -> str:
        """What follows `uses: owner/flagbot/...`: `@<sha> # <tag>`, or `@<tag>`."""
        return f"@{self.ref}" if self.ref == self.label else f"@{self.ref} # {self.label}"


@dataclass(frozen=True, slots=True)
class Options:
    org: str = "your-org"
    pin: Pin = Pin(RELEASE_TAG, RELEASE_TAG)
    flagbot_repository: str = HOME_REPOSITORY


class TemplateError(Exception):
    pass


def render(template: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        try:
            return values[match[1]]
        except KeyError:
            raise TemplateError(f"unknown placeholder <<{match[1]}>>") from None

    return PLACEHOLDER.sub(value, template)


def values(options: Options) -> dict[str, str]:
    pin = options.pin
    # Schema URLs use the tag when there is one: readable, and as stable as the commit.
    return {
        "org": options.org,
        "flagbot_repository": options.flagbot_repository,
        "pin": pin.uses_suffix,
        "flagbot_ref": pin.ref,
        "precommit_rev": pin.ref,
        "precommit_comment": "" if pin.ref == pin.label else f"  # {pin.label}",
        "flag_schema": schema_url("flag", pin.label, options.flagbot_repository),
        "policy_schema": schema_url("policy", pin.label, options.flagbot_repository),
    }


def template_text(name: str) -> str:
    return resources.files("bot.scaffold").joinpath("templates", name).read_text()


def repository_files(options: Options) -> dict[str, str]:
    """Repository path -> content of every file `flagbot init` writes."""
    filled = values(options)
    return {path: render(template_text(name), filled) for path, name in TEMPLATES.items()}
