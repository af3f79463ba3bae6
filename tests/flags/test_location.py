from __future__ import annotations

import pytest

from bot.flags.location import FlagLocation, is_flag_path, locate


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("flags/a.yaml", True),
        ("flags/staging/a.yml", True),
        ("flags/a/b/c.yaml", True),  # read, so that its depth can be reported
        ("flags/README.md", False),
        ("flags/a.yaml.bak", False),
        ("flags.yaml", False),
        ("other/flags/a.yaml", False),
        (".github/flagbot.yml", False),
    ],
)
def test_which_paths_are_flags(path, expected):
    assert is_flag_path(path) is expected


def test_key_and_environment_come_from_the_path():
    assert locate("flags/new_checkout_flow.yaml", "production") == (
        FlagLocation("flags/new_checkout_flow.yaml", "new_checkout_flow", "production"),
        [],
    )
    assert locate("flags/staging/x-1.yml", "production")[0].environment == "staging"
    assert locate("flags/x.yaml", "prod")[0].environment == "prod"


@pytest.mark.parametrize("name", ["a", "A1", "9lives", "kebab-case", "snake_case", "x" * 64])
def test_valid_keys(name):
    location, problems = locate(f"flags/{name}.yaml", "production")
    assert problems == [] and location.key == name


@pytest.mark.parametrize(
    "name", ["-lead", "_lead", ".hidden", "has space", "dot.ted", "ümlaut", "x" * 65, ""]
)
def test_invalid_keys(name):
    location, problems = locate(f"flags/{name}.yaml", "production")
    assert location is None
    assert [p.code for p in problems] == ["flag-name"]
    assert "rename the file" in problems[0].message


def test_invalid_environment_folders_and_depth():
    assert locate("flags/-x/a.yaml", "p")[1][0].message.startswith("the environment folder '-x'")
    assert locate("flags/a/b/c.yaml", "p")[1][0].code == "flag-path-depth"
    assert locate("notflags/a.yaml", "p")[1][0].code == "flag-path"
