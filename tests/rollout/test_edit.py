"""The bump edit changes only the percentage and the stage record; every other byte stays."""

from datetime import UTC, datetime

import pytest
import yaml

from bot.rollout.edit import EditError, bump_text

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True, params=["libyaml", "python"])
def loader(request, monkeypatch):
    """Every edit must come out the same with PyYAML's C parser and its pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr("bot.rollout.edit._LOADER", yaml.SafeLoader)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    return request.param


BLOCK = """\
# yaml-language-server: $schema=../bot/flags/flag.schema.json
# The new checkout, rolled out in stages.
name: New checkout flow
description: >
  Replaces the legacy checkout.
enabled: true
default: false
value: true
rollout:
  percentage: 5   # start small
  stages: [5, 25, 50, 75, 100]
  every: 60m

# trailing comment stays
tags: [checkout]
"""


def diff_lines(a: str, b: str) -> list[tuple[str, str]]:
    import difflib

    return [
        (op[0], line)
        for op, line in (
            (line[:1], line[2:]) for line in difflib.ndiff(a.splitlines(), b.splitlines())
        )
        if op in "+-"
    ]


def test_first_bump_changes_percentage_and_inserts_record_after_the_block():
    out = bump_text(BLOCK, 25, AT)
    assert diff_lines(BLOCK, out) == [
        ("-", "  percentage: 5   # start small"),
        ("+", "  percentage: 25  # start small"),  # the comment keeps its column
        ("+", "  stage_started:"),
        ("+", "    percentage: 25"),
        ("+", "    at: 2026-11-27T10:00:00Z"),
    ]
    data = yaml.safe_load(out)
    assert data["rollout"]["stage_started"] == {"percentage": 25, "at": AT}
    assert out.endswith("tags: [checkout]\n")


def test_second_bump_rewrites_the_record_in_place():
    once = bump_text(BLOCK, 25, AT)
    later = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    twice = bump_text(once, 50, later)
    assert diff_lines(once, twice) == [
        ("-", "  percentage: 25  # start small"),
        ("+", "  percentage: 50  # start small"),
        ("-", "    percentage: 25"),
        ("+", "    percentage: 50"),
        ("-", "    at: 2026-11-27T10:00:00Z"),
        ("+", "    at: 2026-11-27T11:00:00Z"),
    ]


def test_rollout_as_last_block_without_trailing_newline():
    text = "name: x\nrollout:\n    percentage: 5\n    stages: [5, 100]"
    out = bump_text(text, 100, AT)
    assert out == (
        "name: x\nrollout:\n    percentage: 100\n    stages: [5, 100]\n"
        "    stage_started:\n        percentage: 100\n        at: 2026-11-27T10:00:00Z\n"
    )


def test_block_sequence_stages_keep_their_layout():
    text = (
        "name: x\nrollout:\n  percentage: 5\n  stages:\n    - 5\n    - 50\n    - 100\n"
        "enabled: true\n"
    )
    out = bump_text(text, 50, AT)
    assert out == (
        "name: x\nrollout:\n  percentage: 50\n  stages:\n    - 5\n    - 50\n    - 100\n"
        "  stage_started:\n    percentage: 50\n    at: 2026-11-27T10:00:00Z\nenabled: true\n"
    )


def test_flow_style_rollout():
    text = "name: x\nrollout: {percentage: 5, stages: [5, 25]}  # tiny\n"
    out = bump_text(text, 25, AT)
    assert out == (
        "name: x\nrollout: {percentage: 25, stages: [5, 25], "
        "stage_started: {percentage: 25, at: 2026-11-27T10:00:00Z}}  # tiny\n"
    )


def test_crlf_files_stay_crlf():
    text = BLOCK.replace("\n", "\r\n")
    out = bump_text(text, 25, AT)
    assert "\n" not in out.replace("\r\n", "")
    assert "  stage_started:\r\n    percentage: 25\r\n" in out


def test_quoted_timestamp_record_is_replaced():
    text = (
        "name: x\nrollout:\n  percentage: 25\n  stages: [5, 25, 50]\n"
        '  stage_started: {percentage: 25, at: "2026-11-26T09:00:00Z"}\n'
    )
    out = bump_text(text, 50, AT)
    assert "stage_started: {percentage: 50, at: 2026-11-27T10:00:00Z}" in out


@pytest.mark.parametrize(
    "text",
    ["- a list\n", "name: x\n", "name: x\nrollout: 5\n", "rollout:\n  percentage: [1]\n", "a: [\n"],
)
def test_shapes_that_cannot_be_edited_safely_are_refused(text):
    with pytest.raises(EditError):
        bump_text(text, 25, AT)


def test_offsets_count_characters_not_bytes_and_a_bom_stays():
    text = (
        '\ufeffname: "Caf\u00e9 \u20ac \U0001f600"\nrollout:\n  percentage: 5\n  stages: [5, 50]\n'
    )
    out = bump_text(text, 50, AT)
    assert out == text.replace("percentage: 5\n", "percentage: 50\n") + (
        "  stage_started:\n    percentage: 50\n    at: 2026-11-27T10:00:00Z\n"
    )


def test_aligned_comments_stay_aligned_and_keep_a_space():
    text = "name: x\nrollout:\n  percentage: 5       # now\n  stages: [5, 100]    # plan\n"
    out = bump_text(text, 100, AT)
    assert out.splitlines()[2] == "  percentage: 100     # now"
    tight = "name: x\nrollout:\n  percentage: 5 # now\n  stages: [5, 100]\n"
    assert bump_text(tight, 100, AT).splitlines()[2] == "  percentage: 100 # now"


def test_pause_adds_two_lines_at_the_end_of_the_rollout_block():
    from bot.rollout.edit import pause_text

    reason = 'guard prometheus sum(rate(e{code=~"5.."}[15m])): 0.07, needs <= 0.02'
    out = pause_text(BLOCK, reason)
    assert diff_lines(BLOCK, out) == [
        ("+", "  paused: true"),
        (
            "+",
            '  paused_reason: "guard prometheus sum(rate(e{code=~\\"5..\\"}[15m])): 0.07, '
            'needs <= 0.02"',
        ),
    ]
    assert yaml.safe_load(out)["rollout"]["paused_reason"] == reason


def test_pause_rewrites_existing_values_in_place():
    from bot.rollout.edit import pause_text

    text = BLOCK.replace("  every: 60m\n", "  every: 60m\n  paused: false   # resumed\n")
    out = pause_text(pause_text(text, "first"), "second")
    assert "  paused: true    # resumed\n" in out
    assert out.count("paused_reason") == 1 and yaml.safe_load(out)["rollout"]["paused"] is True


def test_pause_in_a_flow_mapping():
    from bot.rollout.edit import pause_text

    out = pause_text("name: X\nrollout: {percentage: 5, stages: [5, 25]}\n", "r")
    assert (
        out
        == 'name: X\nrollout: {percentage: 5, stages: [5, 25], paused: true, paused_reason: "r"}\n'
    )


# A long PromQL query is naturally written as a folded block scalar; when the guard is the last
# thing in the rollout block, the scalar's end mark lies at the start of the line after it.
BLOCK_SCALAR_LAST = """\
name: New checkout flow
default: false
value: true
rollout:
  percentage: 5
  stages: [5, 25, 50, 75, 100]
  guard:
    checks:
      - prometheus:
          url_env: FLAGBOT_PROMETHEUS_URL
          max: 0.02
          query: >-
            sum(rate(http_requests_total{code=~"5.."}[15m]))
            / sum(rate(http_requests_total[15m]))
tags: [checkout]
"""


def test_bump_after_a_block_scalar_ending_the_rollout_keeps_the_file_whole():
    out = bump_text(BLOCK_SCALAR_LAST, 25, AT)
    before, after = yaml.safe_load(BLOCK_SCALAR_LAST), yaml.safe_load(out)
    assert after["rollout"]["stage_started"] == {"percentage": 25, "at": AT}
    assert after["tags"] == ["checkout"]
    query = before["rollout"]["guard"]["checks"][0]["prometheus"]["query"]
    assert after["rollout"]["guard"]["checks"][0]["prometheus"]["query"] == query
    assert out.endswith("tags: [checkout]\n")


def test_pause_after_a_block_scalar_ending_the_rollout_keeps_the_file_whole():
    from bot.rollout.edit import pause_text

    out = pause_text(BLOCK_SCALAR_LAST, "guard failed")
    data = yaml.safe_load(out)
    assert (data["rollout"]["paused"], data["rollout"]["paused_reason"]) == (True, "guard failed")
    assert data["tags"] == ["checkout"]
    assert out.endswith("tags: [checkout]\n")


def test_pause_replaces_a_block_scalar_reason_a_person_left_behind():
    """Paused by hand with a multi-line reason, resumed with `paused: false` and the reason
    kept: when a guard fails the job must still be able to pause (or roll back) the flag."""
    from bot.rollout.edit import pause_text

    text = (
        "name: X\nrollout:\n  percentage: 25\n  stages: [5, 25, 50]\n  paused: false\n"
        "  paused_reason: |\n    Paused by hand while we looked\n    at the dashboards.\n"
        "  every: 60m\ntags: [a]\n"
    )
    for newline in ("\n", "\r\n"):
        out = pause_text(text.replace("\n", newline), "guard x")
        data = yaml.safe_load(out)
        assert data["rollout"]["paused_reason"] == "guard x" and data["rollout"]["paused"] is True
        assert data["rollout"]["every"] == "60m" and data["tags"] == ["a"]
        assert f'  paused_reason: "guard x"{newline}  every: 60m{newline}' in out
