"""The export documents: flagd's schema, their shape, what a target refuses, the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bot.cli import main
from bot.exports import export
from bot.exports.flagset import FlagSet
from tests.conftest import vendor_path
from tests.exports.corpus import corpus_flagset

ROOT = Path(__file__).resolve().parents[2]


def flagd_validator() -> jsonschema.Draft7Validator:
    folder = vendor_path("flagd", "schemas")
    schemas = {
        name: json.loads((folder / name).read_text()) for name in ("flags.json", "targeting.json")
    }
    registry: Registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s, default_specification=DRAFT7))
        for s in schemas.values()
    )
    return jsonschema.Draft7Validator({"$ref": schemas["flags.json"]["$id"]}, registry=registry)


def test_flagd_export_of_the_corpus_and_this_repository_is_valid_against_flagds_schema():
    validator = flagd_validator()
    this_repo = FlagSet.from_snapshot(
        {str(p.relative_to(ROOT)): p.read_bytes() for p in (ROOT / "flags").rglob("*.yaml")}
    )
    for flagset, env in ((corpus_flagset(), "production"), (this_repo, "production"),
                         (this_repo, "staging")):  # fmt: skip
        document = export(flagset, "flagd", env).document
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], errors[:3]


def test_the_schema_check_would_catch_a_broken_export():
    validator = flagd_validator()
    document = export(corpus_flagset(), "flagd", "production").document
    document["flags"]["bool-static"]["variants"]["value"] = "yes"  # a string among booleans
    assert not validator.is_valid(document)


def test_flagd_document_carries_flag_set_id_version_and_static_disabled_flags():
    document = export(corpus_flagset(), "flagd", "production").document
    assert document["metadata"] == {"flagSetId": "acme/flags:production", "version": "c0ffee"}
    killed = document["flags"]["bool-killed"]
    assert killed["state"] == "ENABLED" and killed["defaultVariant"] == "default"
    assert "targeting" not in killed
    partial = document["flags"]["bool-pct25"]["targeting"]
    assert partial == {"fractional": [["value", 25_000], ["default", 75_000]]}
    assert document["flags"]["bool-pct100"]["defaultVariant"] == "value"
    assert document["flags"]["bool-pct0"]["defaultVariant"] == "default"


def test_unleash_document_rolls_out_with_the_flag_key_as_group_id():
    document = export(corpus_flagset(), "unleash", "production").document
    assert document["version"] == 2
    features = {f["name"]: f for f in document["features"]}
    (strategy,) = features["bool-pct25"]["strategies"]
    assert strategy["name"] == "flexibleRollout"
    assert strategy["parameters"] == {"rollout": "25", "stickiness": "userId",
                                      "groupId": "bool-pct25"}  # fmt: skip
    assert features["bool-killed"]["enabled"] is False
    assert [s["variants"][0]["name"] for s in features["stri-pct25"]["strategies"]] == [
        "value", "default",
    ]  # fmt: skip


REGEX_FLAG = b"""name: Beta
rules:
  - name: testers
    attribute: email
    operator: matches
    values: ["^qa-"]
    serve: true
"""


@pytest.mark.parametrize("target", ["flagd", "unleash"])
def test_a_regex_rule_is_refused_at_its_line(target):
    flagset = FlagSet.from_snapshot({"flags/beta.yaml": REGEX_FLAG})
    result = export(flagset, target, "production")
    assert result.document is None
    (problem,) = result.problems
    assert (problem.path, problem.line) == ("flags/beta.yaml", 5)
    assert "regular expressions" in problem.message


def test_unleash_refuses_rules_on_the_context_fields_it_fills_itself():
    body = REGEX_FLAG.replace(b"email", b"environment").replace(b"matches", b"in")
    flagset = FlagSet.from_snapshot({"flags/beta.yaml": body})
    assert export(flagset, "flagd", "production").document is not None
    (problem,) = export(flagset, "unleash", "production").problems
    assert problem.line == 4 and "fills `environment` itself" in problem.message


def test_an_invalid_flag_file_refuses_the_whole_environment():
    flagset = FlagSet.from_snapshot(
        {"flags/a.yaml": b"name: A\n", "flags/b.yaml": b"name: B\nrollout: {percentage: 120}\n"}
    )
    result = export(flagset, "unleash", "production")
    assert result.document is None
    assert result.problems[0].path == "flags/b.yaml"
    assert result.filename == "production.unleash.json"


def test_two_files_for_one_key_refuse_the_export():
    flagset = FlagSet.from_snapshot({"flags/a.yaml": b"name: A\n", "flags/a.yml": b"name: B\n"})
    result = export(flagset, "flagd", "production")
    assert result.document is None
    assert {p.code for p in result.problems} == {"duplicate-flag"}


def test_boolean_partial_rollout_of_false_is_refused_by_unleash_only():
    body = b"name: X\ndefault: true\nvalue: false\nrollout: {percentage: 30}\n"
    flagset = FlagSet.from_snapshot({"flags/x.yaml": body})
    assert export(flagset, "flagd", "production").document is not None
    (problem,) = export(flagset, "unleash", "production").problems
    assert problem.line == 4 and "70 %" in problem.message


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_REPOSITORY": "acme/flags"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_export_command_writes_one_file_per_environment(tmp_path):
    out = tmp_path / "out"
    done = run_cli(["export", "--format", "flagd", "--out", str(out)], ROOT)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "production.flagd.json", "staging.flagd.json",
    ]  # fmt: skip
    staging = json.loads((out / "staging.flagd.json").read_text())
    assert staging["metadata"]["flagSetId"] == "acme/flags:staging"
    assert list(staging["flags"]) == ["search_ranking_v2"]


def test_export_command_refuses_an_environment_without_flags(tmp_path):
    """A misspelt --env must not publish an empty file (applications would lose every flag);
    the service answers 404 for the same name."""
    out = tmp_path / "out"
    done = run_cli(["export", "--format", "flagd", "--env", "prodution", "--out", str(out)], ROOT)
    assert done.returncode == 2
    assert "prodution" in done.stderr and "production, staging" in done.stderr
    assert not out.exists()


def test_export_command_names_an_out_folder_it_cannot_write(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder\n")
    done = run_cli(["export", "--format", "flagd", "--out", str(tmp_path / "taken")], ROOT)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("flagbot export: ") and "taken" in done.stderr


def test_export_command_writes_nothing_when_a_target_cannot_express_a_flag(tmp_path):
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "beta.yaml").write_bytes(REGEX_FLAG)
    (tmp_path / "flags" / "fine.yaml").write_bytes(b"name: Fine\n")
    done = run_cli(["export", "--format", "unleash", "--out", "out"], tmp_path)
    assert done.returncode == 1
    assert "flags/beta.yaml:5:" in done.stderr and "nothing written" in done.stderr
    assert not (tmp_path / "out").exists()


def test_export_command_refuses_a_symlinked_flag(tmp_path):
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "real.yaml").write_bytes(b"name: Real\n")
    (tmp_path / "flags" / "alias.yaml").symlink_to("real.yaml")
    done = run_cli(["export", "--format", "flagd", "--out", "out"], tmp_path)
    assert done.returncode == 1
    assert "flags/alias.yaml is a symlink" in done.stderr
    assert not (tmp_path / "out").exists()


def test_eval_command_explains_the_outcome(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["eval", "checkout_banner_text", "--context", "email=a@acme.example"]) == 0
    assert "rule 1 (staff-preview) matched" in capsys.readouterr().out
    assert main(["eval", "new_checkout_flow", "--targeting-key", "user-3",
                 "--format", "json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["bucket"] == 34 and result["reason"] == "default"
    assert main(["eval", "legacy_search"]) == 0
    assert "kill switch" in capsys.readouterr().out
    assert main(["eval", "search_ranking_v2", "--env", "staging", "--targeting-key", "u"]) == 0
    assert main(["eval", "nope"]) == 1
    assert "no flag 'nope'" in capsys.readouterr().err
    assert main(["eval", "new_checkout_flow", "--context", "oops"]) == 2


POLICY = b"""roles: {manager: ["@acme/m"], qa: ["@acme/q"]}
exports: [flagd, unleash]
"""


def test_validate_refuses_what_a_listed_export_cannot_express():
    from bot.validation import validate_snapshot

    snapshot = {".github/flagbot.yml": POLICY, "flags/beta.yaml": REGEX_FLAG}
    found = [d for d in validate_snapshot(snapshot).diagnostics if d.code.startswith("export-")]
    assert [(d.path, d.line, d.code) for d in found] == [
        ("flags/beta.yaml", 5, "export-flagd"),
        ("flags/beta.yaml", 5, "export-unleash"),
    ]
    without = {".github/flagbot.yml": POLICY.replace(b"[flagd, unleash]", b"[]"),
               "flags/beta.yaml": REGEX_FLAG}  # fmt: skip
    assert not [d for d in validate_snapshot(without).diagnostics if d.code.startswith("export")]


def test_exports_lists_only_known_formats():
    from bot.policy.config import load_policy

    policy, problems = load_policy(POLICY.replace(b"unleash]", b"launchdarkly]"))
    assert policy.is_null
    assert problems[0].line == 2 and "launchdarkly" in problems[0].message


def test_flagbot_yml_accepts_exactly_the_formats_there_are():
    from bot.exports import TARGETS
    from bot.policy.config import EXPORT_TARGETS

    assert set(EXPORT_TARGETS) == set(TARGETS)
