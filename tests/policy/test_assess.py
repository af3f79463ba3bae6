"""From raw bytes at base and head to the decision, using this repository's own policy files."""

from pathlib import Path

from bot.policy.assess import ChangedFile, PullContext, assess, wanted_contents
from bot.policy.decision import PullRequestFacts, decide, membership_questions
from bot.policy.reviews import Review

ROOT = Path(__file__).resolve().parents[2]
POLICY = (ROOT / ".github/flagbot.yml").read_bytes()
CODEOWNERS = (".github/CODEOWNERS", (ROOT / ".github/CODEOWNERS").read_bytes())
FLAG = (ROOT / "flags/new_checkout_flow.yaml").read_bytes()
HEAD = "a" * 40
PR = PullRequestFacts(1, "dev", HEAD, "b" * 40, "main", title="Ramp checkout", body="to 25%")


def ctx(files, base=None, head=None, reviews=(), policy=POLICY, codeowners=CODEOWNERS, **kw):
    return PullContext(
        pr=PR,
        files=tuple(files),
        base_files=base or {},
        head_files=head or {},
        policy_file=policy,
        codeowners=codeowners,
        reviews=tuple(reviews),
        **kw,
    )


def approve(user):
    return Review(len(user), user, "APPROVED", HEAD)


def test_rollout_change_classified_with_owners_from_base_codeowners():
    ramped = FLAG.replace(b"percentage: 5 ", b"percentage: 25")
    inp = assess(
        ctx(
            [ChangedFile("flags/new_checkout_flow.yaml", "modified")],
            base={"flags/new_checkout_flow.yaml": FLAG},
            head={"flags/new_checkout_flow.yaml": ramped},
        )
    )
    [change] = inp.changes
    assert (change.key, change.change_type, change.environment) == (
        "new_checkout_flow",
        "rollout",
        "production",
    )
    assert change.reason == "Ramp checkout\n\nto 25%"
    assert inp.owners[change.path] == ("@acme/eng-managers", "@acme/qa", "@acme/oncall")
    assert inp.problems == () and not inp.policy.is_null
    assert decide(inp).title == "Waiting for manager approval"


def test_invalid_head_file_becomes_problems_with_lines():
    broken = FLAG.replace(b"percentage: 5 ", b"percentage: 120")
    inp = assess(
        ctx(
            [ChangedFile("flags/new_checkout_flow.yaml", "modified")],
            base={"flags/new_checkout_flow.yaml": FLAG},
            head={"flags/new_checkout_flow.yaml": broken},
        )
    )
    [problem] = inp.problems
    assert problem.path == "flags/new_checkout_flow.yaml" and problem.line == 20
    assert "between 0 and 100" in problem.message
    assert decide(inp).step == "rejected"


def test_staging_creation_needs_only_a_manager():
    path = "flags/staging/search_ranking_v2.yaml"
    data = (ROOT / path).read_bytes()
    inp = assess(ctx([ChangedFile(path, "added")], head={path: data}))
    [change] = inp.changes
    assert change.change_type == "create" and change.environment == "staging"
    inp = assess(ctx([ChangedFile(path, "added")], head={path: data}, reviews=[approve("mgr")]))
    answers = {q: q == ("@acme/eng-managers", "mgr") for q in membership_questions(inp)}
    from dataclasses import replace

    assert decide(replace(inp, memberships=answers)).should_merge


def test_policy_and_codeowners_are_never_read_from_head():
    # Even if the head carries a permissive flagbot.yml, only the base one is used: a
    # missing base policy fails closed.
    permissive = b"roles:\n  manager: ['@dev']\n  qa: ['@dev']\n"
    inp = assess(
        ctx(
            [ChangedFile("flags/x.yaml", "added")],
            head={"flags/x.yaml": b"name: X\n", ".github/flagbot.yml": permissive},
            policy=None,
        )
    )
    assert inp.policy.is_null
    assert decide(inp).step == "rejected"


def test_rename_is_delete_plus_create_and_both_paths_count_as_changed():
    files = [ChangedFile("flags/staging/legacy_search.yaml", "renamed", "flags/legacy_search.yaml")]
    data = (ROOT / "flags/legacy_search.yaml").read_bytes()
    inp = assess(
        ctx(
            files,
            base={"flags/legacy_search.yaml": data},
            head={"flags/staging/legacy_search.yaml": data},
        )
    )
    assert [c.change_type for c in inp.changes] == ["delete", "create"]
    assert set(inp.changed_paths) == {
        "flags/legacy_search.yaml",
        "flags/staging/legacy_search.yaml",
    }
    assert wanted_contents(tuple(files)) == (
        ["flags/legacy_search.yaml"],
        ["flags/staging/legacy_search.yaml"],
    )


def test_a_modified_file_is_one_changed_path():
    # Counted once, so "too many files" and "changes outside flags/" see GitHub's count.
    inp = assess(
        ctx(
            [
                ChangedFile("flags/new_checkout_flow.yaml", "modified"),
                ChangedFile("README.md", "modified"),
            ],
            base={"flags/new_checkout_flow.yaml": FLAG},
            head={
                "flags/new_checkout_flow.yaml": FLAG.replace(b"percentage: 5 ", b"percentage: 25")
            },
        )
    )
    assert inp.changed_paths == ("flags/new_checkout_flow.yaml", "README.md")
    assert decide(inp).reasons == (
        "Besides flag files this pull request changes README.md. flagbot never merges those; "
        "move them to a separate pull request.",
    )


def test_moving_a_flag_out_of_flags_is_not_a_flag_change():
    files = [ChangedFile("docs/legacy_search.yaml", "renamed", "flags/legacy_search.yaml")]
    inp = assess(ctx(files, base={"flags/legacy_search.yaml": FLAG}))
    assert decide(inp).step == "rejected"


def test_collision_with_an_existing_flag_at_head():
    inp = assess(
        ctx(
            [ChangedFile("flags/new_checkout_flow.yml", "added")],
            head={"flags/new_checkout_flow.yml": FLAG},
            head_flag_paths=("flags/new_checkout_flow.yaml", "flags/new_checkout_flow.yml"),
        )
    )
    assert any(d.code == "duplicate-flag" for d in inp.problems)


def test_fixing_a_broken_base_flag_is_an_update():
    inp = assess(
        ctx(
            [ChangedFile("flags/new_checkout_flow.yaml", "modified")],
            base={"flags/new_checkout_flow.yaml": b"name: [unclosed\n"},
            head={"flags/new_checkout_flow.yaml": FLAG},
        )
    )
    [change] = inp.changes
    assert change.change_type == "update"


def test_missing_codeowners_fails_closed():
    inp = assess(
        ctx(
            [ChangedFile("flags/new_checkout_flow.yaml", "added")],
            head={"flags/new_checkout_flow.yaml": FLAG},
            codeowners=None,
        )
    )
    d = decide(inp)
    assert d.step == "rejected" and "no code owner" in d.reasons[0]


def test_old_sides_come_from_reversing_each_patch():
    from bot.policy.assess import old_versions

    old = FLAG
    new = FLAG.replace(b"percentage: 5 ", b"percentage: 25")
    lines = old.decode().splitlines()
    i = next(k for k, line in enumerate(lines) if "percentage:" in line)
    hunk = [f"@@ -{i + 1},1 +{i + 1},1 @@", "-" + lines[i], "+" + lines[i].replace("5 ", "25")]
    files = (
        ChangedFile("flags/new_checkout_flow.yaml", "modified", patch="\n".join(hunk)),
        ChangedFile("flags/gone.yaml", "removed", patch="@@ -1 +0,0 @@\n-name: Gone"),
        # no patch: must be read (GitHub omits it for a pure rename and a too-large diff alike)
        ChangedFile("flags/b.yaml", "renamed", "flags/a.yaml"),
        ChangedFile("flags/c.yaml", "modified"),  # no patch: must be read
        ChangedFile("flags/copy.yaml", "copied", "flags/new_checkout_flow.yaml"),
    )
    head = {"flags/new_checkout_flow.yaml": new, "flags/b.yaml": b"name: B\n", "flags/c.yaml": b""}
    recovered, missing = old_versions(files, head)
    assert recovered == {
        "flags/new_checkout_flow.yaml": old,
        "flags/gone.yaml": b"name: Gone\n",
    }
    assert missing == ["flags/a.yaml", "flags/c.yaml"]
