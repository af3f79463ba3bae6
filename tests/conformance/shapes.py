"""Field names and JSON types of our JSON against real JSON GitHub sent.

`Shape.of(samples)` merges one or more real documents of one kind (the same operation recorded
several times, or several example payloads of one event): which JSON types each position took,
which fields every object there had, and all the fields seen. `differences(shape, ours)` walks
our document against it and reports, with the path of each:

- `type`: our value has a JSON type GitHub never sent there (integer and number are one type);
- `missing`: a field GitHub sent in every sample is absent from ours;
- `unexpected`: a field of ours GitHub never sent.

Values are not compared: ids, dates and texts differ by nature. What counts as an acceptable
difference (a field that is nullable, a field added to GitHub after a recording) is the
caller's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Path = tuple[str | int, ...]
Kind = Literal["type", "missing", "unexpected"]

_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
    type(None): "null",
}


def json_type(value: Any) -> str:
    return _NAMES[type(value)]


@dataclass
class Shape:
    types: set[str] = field(default_factory=set)
    fields: dict[str, Shape] = field(default_factory=dict)
    always: set[str] | None = None  # fields of every object sample (None: no object seen)
    items: Shape | None = None

    @classmethod
    def of(cls, samples: Iterable[Any]) -> Shape:
        shape = cls()
        for sample in samples:
            shape.add(sample)
        return shape

    def add(self, value: Any) -> None:
        self.types.add(json_type(value))
        if isinstance(value, dict):
            keys = set(value)
            self.always = keys if self.always is None else self.always & keys
            for key, item in value.items():
                self.fields.setdefault(key, Shape()).add(item)
        elif isinstance(value, list):
            for item in value:
                if self.items is None:
                    self.items = Shape()
                self.items.add(item)


@dataclass(frozen=True, slots=True)
class Difference:
    path: Path
    kind: Kind
    real: frozenset[str]  # the JSON types GitHub sent here (empty for `unexpected`)
    ours: str  # our JSON type here ("" for `missing`)

    @property
    def pointer(self) -> str:
        return "".join(f"/{p}" for p in self.path)

    @property
    def involves_null(self) -> bool:
        return self.kind == "type" and (self.ours == "null" or self.real == {"null"})

    def __str__(self) -> str:
        where = self.pointer or "/"
        if self.kind == "missing":
            return f"{where}: GitHub sends this field, we do not"
        if self.kind == "unexpected":
            return f"{where}: we send this field ({self.ours}), GitHub did not"
        return f"{where}: we send {self.ours}, GitHub sent {'/'.join(sorted(self.real))}"


def differences(shape: Shape, ours: Any, path: Path = ()) -> list[Difference]:
    kind = json_type(ours)
    if kind not in shape.types:
        return [Difference(path, "type", frozenset(shape.types), kind)]
    out: list[Difference] = []
    if isinstance(ours, dict):
        for key in sorted((shape.always or set()) - ours.keys()):
            out.append(Difference((*path, key), "missing", frozenset(shape.fields[key].types), ""))
        for key, value in ours.items():
            sub = shape.fields.get(key)
            if sub is None:
                out.append(Difference((*path, key), "unexpected", frozenset(), json_type(value)))
            else:
                out += differences(sub, value, (*path, key))
    elif isinstance(ours, list) and shape.items is not None:
        for i, item in enumerate(ours):
            out += differences(shape.items, item, (*path, i))
    return out
