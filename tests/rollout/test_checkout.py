"""Reading the checkout: planned flags and their bytes, problems as diagnostics, the policy."""

import subprocess
from datetime import timedelta

from bot.rollout.checkout import blob_sha, read_checkout

PLANNED = """\
name: New checkout flow
rollout:
  percentage: 5
  stages: [5, 25, 50, 75, 100]
"""
NO_PLAN = "name: Card payments\nrollout:\n  percentage: 30\n"
BROKEN = "name: Broken\nrollout:\n  percentage: 120\n  stages: [5, 100]\n"
POLICY = """\
roles: {manager: ["@acme/managers"], qa: ["@acme/qa"]}
default_environment: live
rollout: {every: 2h}
"""


def write(root, files):
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode() if isinstance(text, str) else text)


def test_blob_sha_is_gits_object_id(tmp_path):
    data = b"name: x\r\n\xc3\xa9\n"
    (tmp_path / "f").write_bytes(data)
    expected = subprocess.run(
        ["git", "hash-object", str(tmp_path / "f")], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert blob_sha(data) == expected
    assert blob_sha(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_keeps_planned_flags_with_their_exact_bytes(tmp_path):
    write(
        tmp_path,
        {
            "flags/new_checkout_flow.yaml": PLANNED,
            "flags/staging/beta.yml": PLANNED.replace("New", "Beta"),
            "flags/payments.yaml": NO_PLAN,
            "flags/README.md": "not a flag",
        },
    )
    checkout = read_checkout(tmp_path)
    assert [f.path for f in checkout.planned] == [
        "flags/new_checkout_flow.yaml",
        "flags/staging/beta.yml",
    ]
    assert checkout.texts["flags/new_checkout_flow.yaml"] == PLANNED.encode()
    assert "flags/payments.yaml" not in checkout.texts
    assert checkout.flag_count == 3
    assert checkout.diagnostics == ()
    assert checkout.policy.is_null and checkout.policy_ok  # absent: the defaults apply


def test_invalid_files_are_reported_at_their_line_and_skipped(tmp_path):
    write(tmp_path, {"flags/broken.yaml": BROKEN, "flags/ok.yaml": PLANNED})
    checkout = read_checkout(tmp_path)
    assert [f.key for f in checkout.planned] == ["ok"]
    [problem] = checkout.diagnostics
    assert (problem.path, problem.line, problem.column) == ("flags/broken.yaml", 3, 15)
    assert "between 0 and 100" in problem.message


def test_files_without_a_plan_are_not_loaded(tmp_path):
    # A broken kill switch is `flagbot validate`'s business (every pull request runs it); the
    # rollout job reads only what could move.
    write(tmp_path, {"flags/switch.yaml": "name: [\n", "flags/ok.yaml": PLANNED})
    checkout = read_checkout(tmp_path)
    assert [f.key for f in checkout.planned] == ["ok"]
    assert checkout.diagnostics == () and checkout.flag_count == 2


def test_policy_supplies_environment_and_default_wait(tmp_path):
    write(tmp_path, {".github/flagbot.yml": POLICY, "flags/a.yaml": PLANNED})
    checkout = read_checkout(tmp_path)
    [flag] = checkout.planned
    assert flag.environment == "live" and checkout.default_environment == "live"
    assert flag.rollout.every == timedelta(hours=2)


def test_invalid_policy_is_not_usable(tmp_path):
    write(tmp_path, {".github/flagbot.yml": "roles: 3\n", "flags/a.yaml": PLANNED})
    checkout = read_checkout(tmp_path)
    assert checkout.policy.is_null and not checkout.policy_ok
    assert any(d.path == ".github/flagbot.yml" for d in checkout.diagnostics)
