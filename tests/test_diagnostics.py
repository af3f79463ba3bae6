import json

from bot.diagnostics import Diagnostic, format_github, format_json, format_text, has_errors


def test_text_format_is_path_line_col_message():
    d = Diagnostic("flags/a.yaml", 7, 15, "rollout.percentage must be between 0 and 100, got 120")
    assert format_text([d]) == (
        "flags/a.yaml:7:15: rollout.percentage must be between 0 and 100, got 120"
    )


def test_github_format_escapes_and_positions():
    d = Diagnostic("flags/a,b.yaml", 3, 2, "bad: 100%\nsecond line")
    assert (
        format_github([d])
        == "::error file=flags/a%2Cb.yaml,line=3,col=2::bad: 100%25%0Asecond line"
    )


def test_json_format_round_trips_and_sorts():
    ds = [Diagnostic("b.yaml", 1, 1, "x"), Diagnostic("a.yaml", 2, 1, "y", "warning")]
    out = json.loads(format_json(ds))
    assert [o["path"] for o in out] == ["a.yaml", "b.yaml"]
    assert out[0]["severity"] == "warning"
    assert has_errors(ds) and not has_errors(ds[1:])
