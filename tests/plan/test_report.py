"""Check-run output, merge commit and completion comment rendered from a decision."""

from bot.diagnostics import Diagnostic
from bot.plan.report import (
    COMMENT_MARKER,
    check_output,
    completion_comment,
    merge_message,
    merge_title,
)
from bot.policy.changes import MISSING, ChangeRequest, FieldChange
from bot.policy.decision import Decision, RoleStatus

ROLLOUT = ChangeRequest(
    "new_checkout_flow",
    "production",
    "rollout",
    "flags/new_checkout_flow.yaml",
    (FieldChange("rollout.percentage", 5, 25),),
    "dev",
    "Ramp it",
    True,
)
CREATE = ChangeRequest(
    "beta_search",
    "staging",
    "create",
    "flags/staging/beta_search.yaml",
    (FieldChange("name", MISSING, "Beta search"), FieldChange("enabled", MISSING, True)),
    "dev",
    "New flag",
    True,
)


def waiting_for_qa():
    return Decision(
        "approval",
        "Waiting for QA validation",
        None,
        roles=(
            RoleStatus("manager", ("flags/new_checkout_flow.yaml",), ("mgr",), ("@acme/m",), True),
            RoleStatus("qa", ("flags/new_checkout_flow.yaml",), (), ("@acme/qa",), False),
        ),
        approvers={"manager": "mgr"},
        waiting_for="qa",
    )


def test_check_output_in_progress_with_tables():
    out = check_output(waiting_for_qa(), [ROLLOUT, CREATE], [])
    assert (out.status, out.conclusion, out.title) == (
        "in_progress",
        None,
        "Waiting for QA validation",
    )
    assert "| `new_checkout_flow` | production | rollout | `rollout.percentage`: `5` → `25` |" in (
        out.summary
    )
    assert '`name` = `"Beta search"`' in out.summary
    assert "| ✅ manager approval | @mgr | — |" in out.summary
    assert "| ⏳ QA validation | — | @acme/qa |" in out.summary


def test_annotations_point_at_lines_and_batch_by_fifty():
    problems = [Diagnostic("flags/a.yaml", i + 1, 3, f"problem {i}") for i in range(120)]
    decision = Decision("rejected", "Rejected: 120 validation errors", "failure")
    out = check_output(decision, [], problems)
    assert out.status == "completed" and out.conclusion == "failure"
    first = out.annotations[0]
    assert first == {
        "path": "flags/a.yaml",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "failure",
        "message": "problem 0",
        "title": "flagbot validation",
        "start_column": 3,
        "end_column": 3,
    }
    assert [len(b) for b in out.batches()] == [50, 50, 20]


def test_summary_is_capped_for_github():
    many = [
        ChangeRequest(
            f"f{i}",
            "production",
            "update",
            f"flags/f{i}.yaml",
            (FieldChange("description", "x" * 50, "y" * 50),),
            "dev",
            "",
            True,
        )
        for i in range(2000)
    ]
    out = check_output(waiting_for_qa(), many, [])
    assert len(out.summary) <= 65_000 and out.summary.endswith("(truncated)")


def test_merge_title_and_trailers():
    assert merge_title([ROLLOUT], 7) == "flagbot: rollout new_checkout_flow (#7)"
    assert merge_title([CREATE], 8) == "flagbot: create beta_search (staging) (#8)"
    assert merge_title([ROLLOUT, CREATE], 9).startswith("flagbot: 2 flag changes:")
    msg = merge_message(
        [ROLLOUT], {"manager": "mgr", "qa": "qa"}, title="Ramp it", requested_by="dev"
    )
    assert msg.splitlines()[0] == "Ramp it"
    assert "  rollout.percentage: 5 -> 25" in msg
    assert msg.endswith("Requested-by: dev\nManager-approved-by: mgr\nQA-validated-by: qa")


def test_other_roles_get_their_own_trailer():
    msg = merge_message([ROLLOUT], {"oncall": "pager"}, title="", requested_by="dev")
    assert msg.endswith("Oncall-approved-by: pager")


def test_completion_comment_is_marked_and_reports_failed_channels():
    text = completion_comment([ROLLOUT], {"manager": "mgr", "qa": "qa"}, "abcdef0123", ["slack"])
    assert text.startswith(COMMENT_MARKER)
    assert "abcdef0" in text and "manager approval by @mgr" in text
    assert "Could not notify: slack" in text
