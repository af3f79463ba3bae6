"""Safe YAML loading that can say where every value came from.

libyaml's C composer (`yaml.CSafeLoader`) turns the text into a node tree, which keeps each
node's line and column. We build plain Python values from that tree ourselves instead of using
PyYAML's constructor, because that is where the dangers live and where positions get lost:

- only YAML's standard scalar tags, lists and mappings; any other tag (`!!python/object`, ...)
  is refused, so loading never creates arbitrary objects;
- duplicate mapping keys are an error at any depth (PyYAML silently keeps the last one);
- aliases are bounded in count and in expansion, so a billion-laughs file fails at once;
- size, encoding (UTF-8 only) and nesting depth are bounded before and while parsing.

Positions are looked up from the node tree only when a problem is reported, so a clean file
pays nothing for them. `Document.position(("rollout", "percentage"))` gives 1-based line and
column of that value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.diagnostics import Diagnostic

try:  # libyaml bindings; the pure-Python loader gives the same nodes, only slower
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[Any, ...]
"""Where a value sits in a document: mapping keys and list indexes, e.g. ("rules", 0, "serve")."""

MAX_BYTES = 256 * 1024
MAX_ALIASES = 100  # re-uses of an anchored list or mapping
MAX_NODES = 50_000  # values after alias expansion
MAX_DEPTH = 100
# Integers beyond a float's range: hex and binary ones have no digit limit in PyYAML, and
# printing one of more than 4300 digits raises (in messages, check runs and exports alike).
MAX_INT_BITS = 1024

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, TIMESTAMP = (
    _TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp")
)
_SEQ, _MAP, _MERGE = _TAG + "seq", _TAG + "map", _TAG + "merge"

# PyYAML resolves these words (YAML 1.1) to booleans; YAML 1.2 tools, editors among them, read
# them as strings. Both readers agree only on true/false.
YAML11_BOOLEAN_WORDS = frozenset(
    w for base in ("yes", "no", "on", "off") for w in (base, base.capitalize(), base.upper())
)

_constructor = SafeConstructor()
_SCALAR_BUILDERS = {
    INT: _constructor.construct_yaml_int,
    FLOAT: _constructor.construct_yaml_float,
    BOOL: _constructor.construct_yaml_bool,
    NULL: _constructor.construct_yaml_null,
    TIMESTAMP: _constructor.construct_yaml_timestamp,
}


class _Refused(Exception):
    """A problem found while building values; carries the node to point at."""

    def __init__(self, node: Node, message: str, code: str) -> None:
        super().__init__(message)
        self.node, self.message, self.code = node, message, code


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == STR:
        return node.value
    builder = _SCALAR_BUILDERS.get(tag)
    if builder is None:
        raise _Refused(
            node,
            f"the tag {short_tag(tag)} is not allowed in flagbot files; remove it "
            "(only plain strings, numbers, booleans, null, timestamps, lists and mappings)",
            "yaml-tag",
        )
    try:
        value = builder(node)
        if tag == INT and abs(value).bit_length() > MAX_INT_BITS:
            raise ValueError("too large")
        return value
    except (ValueError, OverflowError, KeyError, AttributeError) as exc:
        # KeyError: `!!bool maybe`; AttributeError: `!!timestamp someday` (PyYAML's
        # constructors assume the resolver chose the tag, not the writer)
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        if tag == BOOL:
            reason = "not a boolean; write true or false"
        elif tag == TIMESTAMP and isinstance(exc, AttributeError):
            reason = "not a date and time; write it as 2024-05-01T12:00:00Z"
        elif tag == INT and len(node.value) > 1000:
            reason = f"a number of {len(node.value)} digits is too long; shorten it or quote it"
        elif tag == INT and str(exc) == "too large":
            reason = "the number is too large (beyond ±1.8e308); shorten it or quote it"
        elif tag == TIMESTAMP:
            reason = f"not a real date and time ({exc}); fix it"
        else:
            reason = f"{exc}; quote it if it is text"
        raise _Refused(node, f"cannot read {shown!r}: {reason}", "yaml-value") from None


class _Builder:
    """Turns a node tree into plain values, enforcing the alias, size and key rules."""

    __slots__ = ("aliases", "nodes", "open", "seen", "yaml11_words")

    def __init__(self) -> None:
        self.seen: set[int] = set()  # lists and mappings built so far: seeing one again is an alias
        self.open: set[int] = set()  # the ones being built right now: seeing one is recursion
        self.aliases = 0
        self.nodes = 0
        self.yaml11_words = False

    def build(self, node: Node, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(
                node,
                f"the document expands to more than {MAX_NODES} values (aliases?); "
                "write it out plainly and keep it small",
                "yaml-too-large",
            )
        cls = node.__class__
        if cls is ScalarNode:
            if node.tag == BOOL and node.value in YAML11_BOOLEAN_WORDS:
                self.yaml11_words = True
            return _scalar(node)  # type: ignore[arg-type]
        if depth > MAX_DEPTH:
            raise _Refused(
                node, f"values are nested more than {MAX_DEPTH} levels deep", "yaml-too-deep"
            )
        ident = id(node)
        if ident in self.open:
            raise _Refused(
                node,
                "this anchor contains an alias of itself, which would never end; remove that alias",
                "yaml-recursive-alias",
            )
        if ident in self.seen:
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(
                    node,
                    f"more than {MAX_ALIASES} alias expansions (this anchor's was one too "
                    "many); write the values out instead of repeating anchors",
                    "yaml-aliases",
                )
        else:
            self.seen.add(ident)
        self.open.add(ident)
        value = self._mapping(node, depth) if cls is MappingNode else self._sequence(node, depth)
        self.open.discard(ident)
        return value

    def _mapping(self, node: MappingNode, depth: int) -> dict[Any, Any]:
        if node.tag != _MAP:
            raise _Refused(node, _tag_message(node.tag), "yaml-tag")
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key in out:
                raise _Refused(
                    key_node,
                    f"duplicate key {key_node.value!r}: it is already set above in this "
                    "mapping; keep only one",
                    "yaml-duplicate-key",
                )
            out[key] = self.build(value_node, depth + 1)
        return out

    def _sequence(self, node: SequenceNode, depth: int) -> list[Any]:
        if node.tag != _SEQ:
            raise _Refused(node, _tag_message(node.tag), "yaml-tag")
        return [self.build(item, depth + 1) for item in node.value]

    def _key(self, node: Node) -> Any:
        if node.__class__ is not ScalarNode:
            raise _Refused(
                node, "mapping keys must be plain words, not lists or mappings", "yaml-key"
            )
        if node.tag == _MERGE:
            raise _Refused(
                node, "merge keys (<<) are not supported; write the keys out", "yaml-merge"
            )
        self.nodes += 1
        return _scalar(node)  # type: ignore[arg-type]


def _tag_message(tag: str) -> str:
    return f"the tag {short_tag(tag)} is not allowed in flagbot files; remove it"


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; a key `on` (True) must not be mistaken for a key `1`.
    return type(a) is type(b) and a == b


def _key_value(node: Node) -> Any:
    if node.__class__ is not ScalarNode:
        return None
    try:
        return _scalar(node)  # type: ignore[arg-type]
    except _Refused:
        return None


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded YAML document: its plain value and the node tree to find positions in."""

    path: str
    data: Any
    root: Node
    yaml11_words: bool = False  # some boolean was written yes/no/on/off (not true/false)

    def _walk(self, where: Path) -> tuple[Node | None, Node, bool]:
        """(key node, value node, found all of `where`) for the deepest part of `where` present."""
        key_node: Node | None = None
        node = self.root
        for step in where:
            nxt: tuple[Node | None, Node] | None = None
            if isinstance(node, MappingNode):
                for k, v in node.value:
                    if _same(_key_value(k), step):
                        nxt = (k, v)
                        break
            elif (
                isinstance(node, SequenceNode)
                and isinstance(step, int)
                and 0 <= step < len(node.value)
            ):
                nxt = (None, node.value[step])  # a list item has no key of its own
            if nxt is None:
                return key_node, node, False
            key_node, node = nxt
        return key_node, node, True

    def position(self, where: Path = (), *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at `where`, or of its key with `key=True`.

        When `where` is missing (a required field, say), the nearest present parent is given:
        its key if it has one, so the reader lands on the line to add the field under.
        """
        key_node, node, found = self._walk(where)
        target = key_node if key_node is not None and (key or not found) else node
        mark = target.start_mark
        return mark.line + 1, mark.column + 1

    def source(self, where: Path) -> str | None:
        """The text of a scalar as written (e.g. `yes` for a value loaded as True)."""
        _, node, found = self._walk(where)
        return node.value if found and isinstance(node, ScalarNode) else None

    def key_source(self, where: Path) -> str | None:
        key_node, _, found = self._walk(where)
        return key_node.value if found and isinstance(key_node, ScalarNode) else None

    def yaml11_word(self, where: Path) -> str | None:
        """The word (`yes`, `on`, ...) a boolean at `where` was written as, if not true/false.

        Cheap for the usual file: without such words anywhere, no position lookup happens.
        """
        if not self.yaml11_words:
            return None
        text = self.source(where)
        return text if text in YAML11_BOOLEAN_WORDS else None

    def diagnostic(self, where: Path, message: str, code: str, *, key: bool = False) -> Diagnostic:
        line, column = self.position(where, key=key)
        return Diagnostic(self.path, line, column, message, "error", code)


def _whole_file(path: str, message: str, code: str) -> Diagnostic:
    return Diagnostic(path, 1, 1, message, "error", code)


def _at_byte(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    return line, len(data[line_start:offset].decode("utf-8", "replace")) + 1


def _decode_problem(data: bytes, path: str) -> Diagnostic | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _at_byte(data, exc.start)
        return Diagnostic(
            path,
            line,
            column,
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8",
            "error",
            "yaml-encoding",
        )
    return None


def load_mapping(
    data: bytes, path: str, *, kind: str = "file", max_bytes: int = MAX_BYTES
) -> tuple[Document | None, list[Diagnostic]]:
    """Load one YAML document whose top level must be a mapping.

    Returns the document, or None with the reasons; never raises on bad input. `kind` names
    the file in messages ("flag file", "flagbot.yml").
    """
    if len(data) > max_bytes:
        return None, [
            _whole_file(
                path,
                f"the {kind} is larger than {max_bytes // 1024} KiB, the limit; keep it small "
                "(long values belong elsewhere)",
                "yaml-size",
            )
        ]
    problem = _decode_problem(data, path)
    if problem:
        return None, [problem]
    loader = _Loader(data)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(path, exc, data)]
    except yaml.reader.ReaderError as exc:  # libyaml reports a byte offset, not a mark
        line, column = _at_byte(data, min(exc.position, len(data)))
        message = (
            f"character U+{exc.character:04X} is not allowed in YAML ({exc.reason}); remove it"
        )
        return None, [Diagnostic(path, line, column, message, "error", "yaml-character")]
    except yaml.YAMLError as exc:  # anything else libyaml raises without a position
        return None, [_whole_file(path, f"YAML error: {exc}; fix the YAML", "yaml-syntax")]
    finally:
        loader.dispose()
    if root is None:
        return None, [_whole_file(path, f"the {kind} is empty; it must be a mapping", "yaml-empty")]
    builder = _Builder()
    try:
        data_value = builder.build(root, 0)
    except _Refused as exc:
        mark = exc.node.start_mark
        return None, [
            Diagnostic(path, mark.line + 1, mark.column + 1, exc.message, "error", exc.code)
        ]
    doc = Document(path, data_value, root, builder.yaml11_words)
    if not isinstance(data_value, dict):
        return None, [
            doc.diagnostic(
                (),
                f"the {kind} must be a mapping of `field: value` lines, not {describe(data_value)}",
                "yaml-not-mapping",
            )
        ]
    return doc, []


_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks, as libyaml counts
_SYNTAX_HINTS = (
    ("found duplicate anchor", "give each anchor (&name) a different name"),
    ("found undefined alias", "define the anchor (&name) before using it (*name)"),
    ("expected a single document", "keep one document per file (remove the extra ---)"),
)


def _syntax_problem(path: str, exc: yaml.MarkedYAMLError, data: bytes) -> Diagnostic:
    mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    text = exc.context or ""
    if context is not None and mark is not None and context.line != mark.line:
        text += f" (from line {context.line + 1}, column {context.column + 1})"
    text = f"{text} {exc.problem or ''}".strip()
    hint = next((h for needle, h in _SYNTAX_HINTS if needle in text), "fix the YAML syntax")
    lines = _LINE_BREAK.split(data.decode("utf-8"))
    if "undefined alias" in text and mark and mark.line < len(lines):
        alias = re.match(r"\*[^\s,\[\]{}]+", lines[mark.line][mark.column :])
        text += f" {alias.group()}" if alias else ""
    if mark and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
        hint = "indent with spaces, not tabs"
    return Diagnostic(
        path, line, column, f"YAML syntax error: {text}; {hint}", "error", "yaml-syntax"
    )


def describe(value: Any) -> str:
    """How a loaded value reads in an error message: its kind and, for scalars, itself."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the {type(value).__name__} {value}"
