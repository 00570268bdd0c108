"""The course's specification (course.toml), read and checked: the editions and the graded functions.

``SPEC = load()`` is what every other module reads: the grader, the visible tests, the tools
that write the notebooks and the docs, and the tests. A mistake in course.toml stops whoever
reads it with a ``SpecError`` that names the file, the function and what is wrong, so nothing
runs on a specification half understood.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping

HERE = os.path.dirname(os.path.abspath(__file__))
# The course's course.toml: beside this module, unless COURSE_SPEC names another (a second course
# graded by this same code, as tests/second_course is).
PATH = os.environ.get("COURSE_SPEC") or os.path.join(HERE, "course.toml")

ARGUMENT_KINDS = ("array", "labels", "dict", "size", "count", "number", "flag", "any")
RESULT_KINDS = ("sizes", "pair", "value", "array", "labels", "dict")


class SpecError(ValueError):
    """course.toml says something the course cannot use; the message says where and what."""


@dataclasses.dataclass(frozen=True)
class Argument:
    name: str
    kind: str
    shape: tuple = ()  # "array", "labels": (rows, columns)
    dim: str = ""  # "size": the dimension it equals
    entries: tuple = ()  # "dict": ((key, (rows, columns)), ...)
    optional: frozenset = frozenset()  # "dict": keys that may be absent
    default: object = None
    has_default: bool = False


@dataclasses.dataclass(frozen=True)
class Function:
    name: str
    short: str
    points: float
    arguments: tuple
    returns: str
    calls: tuple
    rtol: float
    atol: float
    hidden: tuple  # one mapping of sizes per hidden case
    visible: bool = True  # whether the grader runs the visible case too (not when it is long to run)


@dataclasses.dataclass(frozen=True)
class Edition:
    assignment: str
    language: str


@dataclasses.dataclass(frozen=True)
class Spec:
    path: str
    editions: tuple
    functions: tuple
    course_rtol: float = 1e-5
    course_atol: float = 1e-7
    shapes: Mapping = dataclasses.field(default_factory=dict)  # name -> {key: (rows, columns)}
    recipes: str = ""  # the module (beside course.toml) whose RECIPES draw the hidden cases; "" for the grader's own

    @property
    def folder(self) -> str:
        """The folder of course.toml, where the course's own modules are (testCases, public_tests, recipes)."""
        return os.path.dirname(os.path.abspath(self.path))

    @property
    def names(self) -> tuple:
        return tuple(function.name for function in self.functions)

    @property
    def points(self) -> dict:
        return {function.name: function.points for function in self.functions}

    @property
    def total(self) -> float:
        return sum(function.points for function in self.functions)

    @property
    def languages(self) -> tuple:
        return tuple(dict.fromkeys(edition.language for edition in self.editions))

    def function(self, name: str) -> Function:
        for function in self.functions:
            if function.name == name:
                return function
        raise KeyError(f"{name!r} is not a graded function of {self.path}; they are {', '.join(self.names)}")

    def line(self, name: str, key: str = "name") -> int:
        """The line of course.toml where function ``name`` sets ``key`` (1 if not found), for messages."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError:
            return 1
        start = next(
            (i for i, line in enumerate(lines) if re.fullmatch(rf'\s*name\s*=\s*"{re.escape(name)}"\s*', line)), None
        )
        if start is None:
            return 1
        for i in range(start, len(lines)):
            if i > start and lines[i].strip() == "[[function]]":
                break
            if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
                return i + 1
        return start + 1


def _fail(path: str, where: str, what: str):
    raise SpecError(f"{os.path.basename(path)}: {where}: {what}")


def _shape(path, where, value) -> tuple:
    if not (isinstance(value, list) and len(value) == 2):
        _fail(path, where, f"a shape is [rows, columns], not {value!r}")
    for size in value:
        if not (
            (isinstance(size, str) and size.isidentifier())
            or (isinstance(size, int) and not isinstance(size, bool) and size > 0)
        ):
            _fail(path, where, f"{size!r} is neither a dimension's name nor a positive number")
    return tuple(value)


def _argument(path, where, raw, shapes) -> Argument:
    known = {"name", "kind", "shape", "dim", "entries", "optional", "default"}
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or raw.get("kind") not in ARGUMENT_KINDS:
        _fail(path, where, f"an argument needs a name and a kind ({', '.join(ARGUMENT_KINDS)}): {raw!r}")
    if set(raw) - known:
        _fail(path, where, f"argument {raw['name']}: unknown key(s) {', '.join(sorted(set(raw) - known))}")
    kind, where = raw["kind"], f"{where}, argument {raw['name']}"
    fields: dict = {"name": raw["name"], "kind": kind}
    if kind in ("array", "labels"):
        fields["shape"] = _shape(path, where, raw.get("shape"))
    if kind == "size":
        if not (isinstance(raw.get("dim"), str) and raw["dim"].isidentifier()):
            _fail(path, where, "a size needs dim, the name of the dimension it equals")
        fields["dim"] = raw["dim"]
    if kind == "dict":
        if raw.get("entries") not in shapes:
            _fail(path, where, f"entries names a table of [shapes]: {', '.join(shapes) or 'there are none'}")
        entries = shapes[raw["entries"]]
        fields["entries"] = tuple(entries.items())
        optional = raw.get("optional", [])
        if not isinstance(optional, list) or set(optional) - set(entries):
            _fail(path, where, f"optional lists keys of shapes.{raw['entries']}")
        fields["optional"] = frozenset(optional)
    if "default" in raw:
        fields["default"], fields["has_default"] = raw["default"], True
    return Argument(**fields)


def _function(path, index, raw, course, shapes, names) -> Function:
    where = f"function {raw.get('name', f'number {index + 1}')!s}"
    known = {"name", "short", "points", "arguments", "returns", "calls", "tolerance", "hidden", "visible"}
    if set(raw) - known:
        _fail(path, where, f"unknown key(s) {', '.join(sorted(set(raw) - known))}")
    name = raw.get("name")
    if not (isinstance(name, str) and name.isidentifier()):
        _fail(path, where, "name must be a Python identifier")
    points = raw.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        _fail(path, where, f"points must be a number of at least 0, not {points!r}")
    if raw.get("returns") not in RESULT_KINDS:
        _fail(path, where, f"returns must be one of {', '.join(RESULT_KINDS)}, not {raw.get('returns')!r}")
    arguments = tuple(_argument(path, where, argument, shapes) for argument in raw.get("arguments", []))
    calls = raw.get("calls", [])
    unknown = [called for called in calls if called not in names or called == name]
    if unknown:
        _fail(path, where, f"calls {', '.join(map(str, unknown))}, which is not another graded function")
    hidden = raw.get("hidden", [])
    if not hidden or not all(isinstance(case, Mapping) for case in hidden):
        _fail(path, where, "hidden lists at least one case, each a table of sizes")
    tolerance = raw.get("tolerance", {})
    return Function(
        name=name,
        short=raw.get("short", name),
        points=points,
        arguments=arguments,
        returns=raw["returns"],
        calls=tuple(calls),
        rtol=float(tolerance.get("rtol", course.get("rtol", 1e-5))),
        atol=float(tolerance.get("atol", course.get("atol", 1e-7))),
        hidden=tuple(dict(case) for case in hidden),
        visible=bool(raw.get("visible", True)),
    )


def parse(text: str, path: str = PATH) -> Spec:
    """The specification that ``text`` (course.toml's content) gives; SpecError if it cannot be used."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        _fail(path, "not TOML", str(error))
    editions = raw.get("edition", [])
    if not editions or not all(
        isinstance(e, Mapping) and isinstance(e.get("assignment"), str) and isinstance(e.get("language"), str)
        for e in editions
    ):
        _fail(path, "[[edition]]", "at least one edition, each with an assignment and a language")
    assignments = [edition["assignment"] for edition in editions]
    if len(set(assignments)) != len(assignments):
        _fail(path, "[[edition]]", "two editions with one assignment")
    shapes = {}
    for shape_name, entries in raw.get("shapes", {}).items():
        shapes[shape_name] = {key: _shape(path, f"shapes.{shape_name}.{key}", value) for key, value in entries.items()}
    functions_raw = raw.get("function", [])
    if not functions_raw:
        _fail(path, "[[function]]", "no graded function")
    names = [function.get("name") for function in functions_raw]
    duplicated = sorted({str(name) for name in names if names.count(name) > 1})
    if duplicated:
        _fail(path, "[[function]]", f"{', '.join(duplicated)} specified twice")
    course = raw.get("course", {})
    functions = tuple(_function(path, i, f, course, shapes, names) for i, f in enumerate(functions_raw))
    shorts = [function.short for function in functions]
    if len(set(shorts)) != len(shorts):
        _fail(path, "[[function]]", "two functions with one short name")
    return Spec(
        path,
        tuple(Edition(e["assignment"], e["language"]) for e in editions),
        functions,
        float(course.get("rtol", 1e-5)),
        float(course.get("atol", 1e-7)),
        shapes,
        str(course.get("recipes", "")),
    )


def load(path: str = PATH) -> Spec:
    """course.toml, beside this module unless ``path`` says otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise SpecError(f"cannot read the course's specification {path}: {error.strerror}") from None
    return parse(text, path)


SPEC = load()
