"""`flagbot validate` also proves every flag can be approved under flagbot.yml and CODEOWNERS."""

from bot.validation import validate_snapshot

POLICY = b"""roles:
  manager: ["@acme/managers"]
  qa: ["@acme/qa"]
  oncall: ["@acme/oncall"]
require:
  environments: {staging: [manager]}
  rules:
    - name: emergency-off
      when: {change_type: toggle, enabled: false}
      roles: [oncall]
"""
FLAG = b"name: A flag\n"


def problems(codeowners: bytes | None, **flags: bytes):
    snap = {".github/flagbot.yml": POLICY, **{f"flags/{k}.yaml": v for k, v in flags.items()}}
    if codeowners is not None:
        snap[".github/CODEOWNERS"] = codeowners
    return [(d.path, d.line, d.code, d.message) for d in validate_snapshot(snap).diagnostics]


def test_fully_owned_repository_is_clean():
    assert problems(b"/flags/ @acme/managers @acme/qa @acme/oncall\n", a=FLAG) == []


def test_missing_codeowners_is_an_error():
    [(path, _, code, _)] = problems(None, a=FLAG)
    assert (path, code) == (".github/CODEOWNERS", "codeowners-missing")


def test_unowned_flag_names_the_rule_that_leaves_it_unowned():
    [(path, _, code, message)] = problems(
        b"/flags/ @acme/managers @acme/qa @acme/oncall\n/flags/a.yaml\n", a=FLAG
    )
    assert (path, code) == ("flags/a.yaml", "flag-unowned")
    assert "line 2 leaves it unowned" in message


def test_role_without_owner_names_the_change_kinds_and_the_fix():
    found = problems(b"/flags/ @acme/managers @acme/qa\n", a=FLAG)
    [(path, _, code, message)] = found
    assert (path, code) == ("flags/a.yaml", "role-without-owner")
    assert message.startswith("toggle off changes need oncall approval")
    assert "add one of @acme/oncall to that line" in message


def test_a_role_only_e_mail_owners_hold_cannot_approve():
    policy = POLICY.replace(b'manager: ["@acme/managers"]', b'manager: ["boss@acme.example"]')
    snap = {
        ".github/flagbot.yml": policy,
        ".github/CODEOWNERS": b"/flags/ boss@acme.example @acme/qa @acme/oncall\n",
        "flags/a.yaml": FLAG,
    }
    found = [(d.code, d.message) for d in validate_snapshot(snap).diagnostics]
    assert [c for c, _ in found] == ["role-without-owner"], found
    assert "only e-mail addresses (boss@acme.example)" in found[0][1]


def test_codeowners_syntax_errors_are_reported_with_lines():
    found = problems(b"/flags/ @acme/managers @acme/qa @acme/oncall\n!/flags/x.yaml @a\n", a=FLAG)
    assert [(p, line) for p, line, _, _ in found] == [(".github/CODEOWNERS", 2)]
