"""Does an answer follow the JSON format of its reference?

Custom output formats are a main reason to tune, so when a reference answer is a JSON object or
array we check that the answer parses and has the same shape: the same keys, and values of the
same JSON types. The shape is inferred from the reference itself (no schema to write):

* an object's keys are all expected; keys the reference does not have are flagged;
* the elements of an array are compared with the merged shape of the reference's elements (a key
  present in only some reference elements is optional);
* ``null`` in the reference accepts any value (it says nothing about the type), and a key that is
  ``null`` in some reference elements accepts ``null`` in the answer;
* integers and decimals are both "number".

Problems are codes with a path (``$.items[2].price``); ``JsonProblem.describe()`` turns them into
a sentence in the user's language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from app.i18n import _

MAX_PROBLEMS = 20  # enough to show what is wrong; a wholly different answer would list hundreds
MAX_COUNTED = 1000  # stop walking a huge answer once it is clearly wrong
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)\r?\n?```$", re.DOTALL)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

ProblemCode = Literal["missing_key", "unexpected_key", "wrong_type"]


class JsonProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: ProblemCode
    path: str
    expected: str = ""  # JSON type names: object, array, string, number, boolean, null
    found: str = ""

    def describe(self) -> str:
        if self.code == "missing_key":
            return _("%(path)s is missing.") % {"path": self.path}
        if self.code == "unexpected_key":
            return _("%(path)s is not in the reference answer.") % {"path": self.path}
        return _("%(path)s should be %(expected)s but is %(found)s.") % {
            "path": self.path,
            "expected": type_label(self.expected),
            "found": type_label(self.found),
        }


class JsonCheck(BaseModel):
    """The JSON check of one answer whose reference is JSON."""

    model_config = ConfigDict(frozen=True)

    valid: bool  # the answer parses as JSON (a code fence only where the reference has one)
    fenced: bool = False  # it parses only once the ``` code fence around it is removed
    error_line: int | None = None  # where parsing failed, for the message
    error_column: int | None = None
    shape_matches: bool = False
    problems: tuple[JsonProblem, ...] = ()
    problem_count: int = 0  # all problems (up to MAX_COUNTED), beyond the MAX_PROBLEMS kept

    def describe(self) -> str:
        """One sentence for the compare screen, in the user's language."""
        if self.fenced:
            return _("The answer is JSON wrapped in ``` marks; the reference has none.")
        if not self.valid:
            if self.error_line is None:
                return _("The answer is not JSON.")
            return _("The answer is not valid JSON (line %(line)d, column %(column)d).") % {
                "line": self.error_line,
                "column": self.error_column,
            }
        if self.shape_matches:
            return _("The answer is valid JSON with the same keys and types as the reference.")
        return _("The answer is valid JSON but its structure differs from the reference.")


def type_label(name: str) -> str:
    labels = {
        "object": _("an object"),
        "array": _("a list"),
        "string": _("text"),
        "number": _("a number"),
        "boolean": _("true/false"),
        "null": _("null"),
    }
    return labels.get(name, name)


def _unfence(text: str) -> tuple[str, bool]:
    stripped = text.strip()
    match = _FENCE.match(stripped)
    return (match.group(1).strip(), True) if match else (stripped, False)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _load(text: str) -> Any:
    # Python accepts NaN and Infinity; JSON (and the systems that read these answers) do not.
    return json.loads(text, parse_constant=_reject_constant)


def parse_reference(reference: str) -> Any | None:
    """The reference as JSON when it is an object or array (a bare number or string is not a
    format worth checking); otherwise None."""
    body, _fenced = _unfence(reference)
    if not body.startswith(("{", "[")):
        return None
    try:
        value = _load(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict | list) else None


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@dataclass
class Shape:
    """The expected shape of a JSON value, inferred from one or more reference values."""

    kind: str  # a json_type name, or "any" when reference values disagree
    nullable: bool = False
    fields: dict[str, tuple[Shape, bool]] = field(default_factory=dict)  # key → (shape, required)
    items: Shape | None = None


def infer_shape(value: Any) -> Shape:
    kind = json_type(value)
    if kind == "object":
        return Shape(kind, fields={key: (infer_shape(item), True) for key, item in value.items()})
    if kind == "array":
        items: Shape | None = None
        for element in value:
            shape = infer_shape(element)
            items = shape if items is None else merge_shapes(items, shape)
        return Shape(kind, items=items)
    return Shape(kind)


def merge_shapes(first: Shape, second: Shape) -> Shape:
    """One shape that accepts values of both."""
    if first.kind == "null" or second.kind == "null":
        other = second if first.kind == "null" else first
        return Shape(other.kind, True, other.fields, other.items)
    nullable = first.nullable or second.nullable
    if first.kind != second.kind:
        return Shape("any", nullable)
    if first.kind == "object":
        fields: dict[str, tuple[Shape, bool]] = {}
        for key in first.fields.keys() | second.fields.keys():
            a, b = first.fields.get(key), second.fields.get(key)
            if a and b:
                fields[key] = (merge_shapes(a[0], b[0]), a[1] and b[1])
            else:
                only = a or b
                assert only is not None
                fields[key] = (only[0], False)
        return Shape("object", nullable, fields)
    if first.kind == "array":
        if first.items is None or second.items is None:
            return Shape("array", nullable, items=first.items or second.items)
        return Shape("array", nullable, items=merge_shapes(first.items, second.items))
    return Shape(first.kind, nullable)


def _child_path(path: str, key: str) -> str:
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def compare_shape(shape: Shape, value: Any, path: str, problems: list[JsonProblem]) -> None:
    """Append a problem for every place where ``value`` does not fit ``shape``."""
    if len(problems) >= MAX_COUNTED:
        return
    found = json_type(value)
    if shape.kind in ("any", "null") or (found == "null" and shape.nullable):
        return
    if found != shape.kind:
        problems.append(JsonProblem(code="wrong_type", path=path, expected=shape.kind, found=found))
        return
    if shape.kind == "object":
        for key, (child, required) in shape.fields.items():
            if key in value:
                compare_shape(child, value[key], _child_path(path, key), problems)
            elif required:
                problems.append(JsonProblem(code="missing_key", path=_child_path(path, key)))
        for key in value:
            if key not in shape.fields:
                problems.append(JsonProblem(code="unexpected_key", path=_child_path(path, key)))
    elif shape.kind == "array" and shape.items is not None:
        for index, element in enumerate(value):
            compare_shape(shape.items, element, f"{path}[{index}]", problems)


def _parse_output(output: str, reference_fenced: bool) -> tuple[Any, bool, JsonCheck | None]:
    """(value, fenced_only, failure). ``failure`` is the finished check when it does not parse."""
    stripped = output.strip()
    try:
        return _load(stripped), False, None
    except (ValueError, RecursionError) as error:
        body, fenced = _unfence(stripped)
        if fenced:
            try:
                return _load(body), not reference_fenced, None
            except (ValueError, RecursionError):
                pass
        line = getattr(error, "lineno", None)
        column = getattr(error, "colno", None)
        return None, False, JsonCheck(valid=False, error_line=line, error_column=column)


def json_check(reference: str, output: str) -> JsonCheck | None:
    """None when the reference is not a JSON object/array; otherwise the check of the answer."""
    expected = parse_reference(reference)
    if expected is None:
        return None
    value, fenced_only, failure = _parse_output(output, _unfence(reference)[1])
    if failure is not None:
        return failure
    problems: list[JsonProblem] = []
    try:
        compare_shape(infer_shape(expected), value, "$", problems)
    except RecursionError:
        problems.append(JsonProblem(code="wrong_type", path="$", expected="object", found="?"))
    return JsonCheck(
        valid=not fenced_only,
        fenced=fenced_only,
        shape_matches=not problems,
        problems=tuple(problems[:MAX_PROBLEMS]),
        problem_count=len(problems),
    )
