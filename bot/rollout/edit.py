"""The job's edits as text edits: a bump changes only `rollout.percentage` and
`rollout.stage_started`; a pause sets `rollout.paused` and `rollout.paused_reason` (a rollback
is a bump down, then a pause).

Everything else in the file (comments, key order, quoting, blank lines, line endings) stays
byte-for-byte, so the bump commit's diff shows exactly what the job did. The edit locates the
scalars through the YAML node marks and splices new text in; the result is parsed again and
checked before it is returned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import yaml

from bot.rollout.schedule import fmt_pct


class EditError(ValueError):
    """The file's shape does not allow a safe in-place edit (the job reports and skips it)."""


@dataclass(frozen=True, slots=True)
class _Splice:
    start: int
    end: int
    text: str


# libyaml when PyYAML has it: the edit parses the file twice, and the pure-Python parser costs
# ~10 ms a file. Both report character offsets; only a BOM is counted differently, so it is
# set aside before parsing.
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOM = "\ufeff"


def format_timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bump_text(text: str, to_percentage: float, started_at: datetime) -> str:
    """Return `text` with the rollout at `to_percentage`, recording that it began `started_at`."""
    if text.startswith(_BOM):
        return _BOM + bump_text(text[len(_BOM) :], to_percentage, started_at)
    root = _compose(text)
    rollout = _value(root, "rollout")
    if not isinstance(rollout, yaml.MappingNode):
        raise EditError("rollout is not a mapping")
    pct_text = fmt_pct(to_percentage)
    at_text = format_timestamp(started_at)
    splices: list[_Splice] = []

    pct_node = _value(rollout, "percentage")
    if not isinstance(pct_node, yaml.ScalarNode):
        raise EditError("rollout.percentage is not a plain value")
    splices.append(_scalar(text, pct_node, pct_text))

    started = _value(rollout, "stage_started")
    if isinstance(started, yaml.MappingNode) and all(
        isinstance(_value(started, k), yaml.ScalarNode) for k in ("percentage", "at")
    ):
        for key, new in (("percentage", pct_text), ("at", at_text)):
            splices.append(_scalar(text, _value(started, key), new))
    elif started is not None:
        flow = f"{{percentage: {pct_text}, at: {at_text}}}"
        splices.append(_Splice(started.start_mark.index, started.end_mark.index, flow))
    else:
        splices.append(_insertion(text, root, rollout, pct_text, at_text))

    out = text
    for s in sorted(splices, key=lambda s: s.start, reverse=True):
        out = out[: s.start] + s.text + out[s.end :]
    _check(out, to_percentage, started_at)
    return out


def pause_text(text: str, reason: str) -> str:
    """Return `text` with the rollout paused and `reason` recorded beside it."""
    if text.startswith(_BOM):
        return _BOM + pause_text(text[len(_BOM) :], reason)
    quoted = json.dumps(reason, ensure_ascii=False)  # a JSON string is a YAML flow scalar
    out = text
    for key, value in (("paused", "true"), ("paused_reason", quoted)):
        out = _set_key(out, key, value)
    try:
        data = yaml.load(out, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise EditError(f"the edited file is not valid YAML: {exc}") from exc
    rollout = data.get("rollout") if isinstance(data, dict) else None
    if not (
        isinstance(rollout, dict)
        and rollout.get("paused") is True
        and rollout.get("paused_reason") == reason
    ):
        raise EditError("the edited file does not read back as intended")
    return out


def _set_key(text: str, key: str, value: str) -> str:
    """Set `rollout.<key>` to the scalar text `value`, in place or as a new last entry."""
    root = _compose(text)
    rollout = _value(root, "rollout")
    if not isinstance(rollout, yaml.MappingNode):
        raise EditError("rollout is not a mapping")
    node = _value(rollout, key)
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        # A block scalar ends past its last line break: keep that break for the next key.
        end = node.end_mark.index
        end -= 2 if text[end - 2 : end] == "\r\n" else 1 if text[end - 1 : end] == "\n" else 0
        s = _Splice(node.start_mark.index, end, value)
    elif isinstance(node, yaml.ScalarNode) and node.end_mark.index > node.start_mark.index:
        s = _scalar(text, node, value)
    elif node is not None and node.end_mark.index > node.start_mark.index:
        s = _Splice(node.start_mark.index, node.end_mark.index, value)
    elif node is not None:  # `key:` with nothing after it: an empty scalar at the colon
        at = node.start_mark.index
        s = _Splice(at, at, f" {value}" if text[at - 1 : at] == ":" else value)
    elif rollout.flow_style:
        close = rollout.end_mark.index - 1
        if text[close] != "}":
            raise EditError("cannot find the end of the rollout mapping")
        sep = ", " if rollout.value else ""
        s = _Splice(close, close, f"{sep}{key}: {value}")
    else:
        newline = "\r\n" if "\r\n" in text else "\n"
        indent = " " * rollout.value[0][0].start_mark.column
        at_index, prefix = _after_block(text, rollout, newline)
        s = _Splice(at_index, at_index, f"{prefix}{indent}{key}: {value}{newline}")
    return text[: s.start] + s.text + text[s.end :]


def _after_block(text: str, block: yaml.MappingNode, newline: str) -> tuple[int, str]:
    """Where a new last entry of a block mapping goes, and the line break it needs first."""
    end = _block_end(text, block)
    line_end = text.find("\n", end)
    return (len(text), newline) if line_end == -1 else (line_end + 1, "")


def _block_end(text: str, block: yaml.MappingNode) -> int:
    """Where the block's last line ends. A block scalar (`|`, `>`) ends past its own line
    break, at the start of the next line: step back so the insertion goes before that line."""
    last = _last_descendant(block)
    end = last.end_mark.index
    if (
        isinstance(last, yaml.ScalarNode)
        and last.style in ("|", ">")
        and text[end - 1 : end] == "\n"
    ):
        return end - 1
    return end


def _scalar(text: str, node: yaml.Node, new: str) -> _Splice:
    """Replace a scalar's text; when a comment follows on its line, keep the comment's column
    (shrinking or growing the gap, at least one space) so aligned comments stay aligned."""
    start, end = node.start_mark.index, node.end_mark.index
    gap = end
    while gap < len(text) and text[gap] == " ":
        gap += 1
    if gap > end and gap < len(text) and text[gap] == "#":
        return _Splice(start, gap, new + " " * max(1, gap - start - len(new)))
    return _Splice(start, end, new)


def _compose(text: str) -> yaml.MappingNode:
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise EditError(f"not valid YAML: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise EditError("the file is not a mapping")
    return root


def _value(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _last_descendant(node: yaml.Node) -> yaml.Node:
    while (
        isinstance(node, yaml.MappingNode | yaml.SequenceNode)
        and node.value
        and not (node.flow_style)
    ):
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node


def _insertion(
    text: str, root: yaml.MappingNode, rollout: yaml.MappingNode, pct: str, at: str
) -> _Splice:
    newline = "\r\n" if "\r\n" in text else "\n"
    if rollout.flow_style:
        close = rollout.end_mark.index - 1
        if text[close] != "}":
            raise EditError("cannot find the end of the rollout mapping")
        sep = ", " if rollout.value else ""
        return _Splice(close, close, f"{sep}stage_started: {{percentage: {pct}, at: {at}}}")
    indent = " " * rollout.value[0][0].start_mark.column
    step = " " * max(2, rollout.value[0][0].start_mark.column - root.value[0][0].start_mark.column)
    at_index, prefix = _after_block(text, rollout, newline)
    block = (
        f"{prefix}{indent}stage_started:{newline}"
        f"{indent}{step}percentage: {pct}{newline}"
        f"{indent}{step}at: {at}{newline}"
    )
    return _Splice(at_index, at_index, block)


def _check(text: str, pct: float, started_at: datetime) -> None:
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise EditError(f"the edited file is not valid YAML: {exc}") from exc
    rollout = data.get("rollout") if isinstance(data, dict) else None
    started = rollout.get("stage_started") if isinstance(rollout, dict) else None
    at = started.get("at") if isinstance(started, dict) else None
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    ok = (
        isinstance(rollout, dict)
        and isinstance(started, dict)
        and rollout.get("percentage") == pct
        and started.get("percentage") == pct
        and at == started_at.astimezone(UTC).replace(microsecond=0)
    )
    if not ok:
        raise EditError("the edited file does not read back as intended")
