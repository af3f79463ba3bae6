"""The one rule, as a property: over generated pull requests (paths inside and outside flags/,
every file status GitHub reports, git modes, valid and invalid flag locations, reviews), the
decision merges only if every path under flags/ is put to approvers, there is at least one
change request, and every change request's every required role is satisfied by a distinct
eligible approver, checked here independently of `decide`.

Bounded and derandomized, so it runs in the normal suite and fails the same way every time.
"""

from dataclasses import replace
from itertools import permutations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.flags.location import in_flags_dir
from bot.policy.assess import ChangedFile, assess, new_path, old_path
from bot.policy.decision import decide, membership_questions
from bot.policy.reviews import Review, latest_reviews
from tests.policy.test_assess import FLAG, HEAD, PR, ctx

TEAMS = {
    "@acme/eng-managers": {"mgr", "mgr2"},
    "@acme/qa": {"qa", "qa2", "mgr2"},  # mgr2 is in both: one person, one role
    "@acme/oncall": {"oncall"},
    "@acme/platform": {"admin"},
}
PEOPLE = ["dev", "mgr", "mgr2", "qa", "qa2", "oncall", "admin", "outsider"]
PATHS = [
    "flags/new_checkout_flow.yaml",  # valid, production
    "flags/payments_kill_switch.yml",
    "flags/staging/search_ranking_v2.yaml",  # valid, staging
    "flags/_template.yaml",  # invalid key
    "flags/archive/2024/old_flag.yaml",  # too deep
    "flags/Bad Name.yaml",
    "flags/README.md",  # in flags/, not a flag file
    "flags/staging",  # a folder's name (as a symlink or submodule)
    "README.md",  # outside flags/
    "docs/new_checkout_flow.yaml",
]
CONTENTS = [
    FLAG,
    FLAG.replace(b"percentage: 5 ", b"percentage: 25"),
    FLAG.replace(b"enabled: true ", b"enabled: false"),
    b"name: Card payments\nenabled: false\n",
    b"name: [unclosed\n",
    None,  # could not be read
]
STATUSES = ["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]
MODES = ["100755", "120000", "160000"]  # besides the usual 100644


@st.composite
def pulls(draw):
    files = []
    paths = st.sampled_from(PATHS[:3]) | st.sampled_from(PATHS)  # valid ones more often
    for path in draw(st.lists(paths, min_size=1, max_size=3, unique=True)):
        status = draw(st.sampled_from(STATUSES))
        previous = draw(paths) if status in ("renamed", "copied") else None
        files.append(ChangedFile(path, status, previous if previous != path else None))
    base = {p: c for p in PATHS if (c := draw(st.sampled_from(CONTENTS))) is not None}
    head = {p: c for p in PATHS if (c := draw(st.sampled_from(CONTENTS))) is not None}
    modes = {p: "100644" for p in PATHS if in_flags_dir(p)}
    for p in draw(st.lists(st.sampled_from(sorted(modes)), max_size=1)):
        modes[p] = draw(st.sampled_from(MODES))
    reviews = [
        Review(
            i,
            draw(st.sampled_from(PEOPLE) | st.sampled_from(["mgr", "qa", "oncall"])),
            draw(st.sampled_from(["APPROVED"] * 4 + ["COMMENTED", "DISMISSED"])),
            draw(st.sampled_from([HEAD] * 3 + ["f" * 40])),
        )
        for i in range(draw(st.integers(0, 5)))
    ]
    return ctx(files, base=base, head=head, reviews=reviews, head_modes=modes)


def roles_satisfied(inp) -> bool:
    """Independently of `decide`: some one-to-one choice of approvers covers every
    (change request, required role) pair."""
    latest = latest_reviews(inp.reviews)
    approvers = sorted(
        u
        for u, r in latest.items()
        if r.state == "APPROVED" and r.commit_id == HEAD and u != PR.author.lower()
    )
    needs = []
    for c in inp.changes:
        for role in inp.policy.required_roles(c.environment, c.change_type, c.enabled_after):
            allowed = {o.lower() for o in inp.policy.roles.get(role, ())}
            owners = [o for o in inp.owners.get(c.path) or () if o.lower() in allowed]
            needs.append((role, {u for o in owners for u in TEAMS.get(o, ())}))
    roles = sorted({role for role, _ in needs})
    for chosen in permutations(approvers, len(roles)):
        holder = dict(zip(roles, chosen, strict=True))
        if all(holder[role] in eligible for role, eligible in needs):
            return True
    return False


def decided(context, *, forget_problems: bool = False):
    """assess, the membership answers the service would fetch, decide. `forget_problems`
    plays an `assess` that missed every problem: `decide` must still fail closed."""
    inp = assess(context)
    answers = {(t, u): u in TEAMS.get(t, ()) for t, u in membership_questions(inp)}
    inp = replace(inp, memberships=answers)
    if forget_problems:
        inp = replace(inp, problems=())
    return inp, decide(inp)


def touched_in_flags(context) -> list[str]:
    """What the pull request adds, removes or changes under flags/ (a copy's source stays)."""
    sides = [(old_path(f), new_path(f)) for f in context.files]
    return [p for pair in sides for p in pair if p and in_flags_dir(p)]


BOUNDED = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@BOUNDED
@given(pulls(), st.booleans())
def test_merges_only_what_every_required_role_approved(context, forget_problems):
    inp, decision = decided(context, forget_problems=forget_problems)
    if not decision.should_merge:
        return
    put_to_approvers = {p for c in inp.changes for p in c.paths}
    assert inp.changes, "merged with no change request"
    assert all(p in put_to_approvers for p in touched_in_flags(context)), "unapproved path"
    assert roles_satisfied(inp), "merged without every required role"


@BOUNDED
@given(pulls())
def test_assess_accounts_for_every_path_in_flags(context):
    """Each path under flags/ is in a change request, or an error names it (or the other
    side of the same rename): nothing a pull request touches there goes unmentioned."""
    inp = assess(context)
    if any(d.path == "flags/" for d in inp.problems):
        return  # the head tree could not be listed: everything is rejected
    accounted = {p for c in inp.changes for p in c.paths}
    named = {d.path for d in inp.problems if d.is_error}
    for f in context.files:
        sides = {old_path(f), new_path(f)} - {None}
        if sides & named:
            accounted |= sides
    missed = [p for p in touched_in_flags(context) if p not in accounted]
    assert not missed


def test_the_generator_reaches_merges_and_refusals():
    """A property that never sees a merge proves nothing: make sure the examples include
    merges as well as pull requests the guard must stop."""
    seen = []

    @BOUNDED
    @given(pulls())
    def record(context):
        seen.append(decided(context)[1].step)

    record()
    assert seen.count("apply_change") >= 5 and seen.count("rejected") >= 50
