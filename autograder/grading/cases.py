"""Hidden test cases: a designed plan of sizes, values drawn from a seed, judged against the reference.

A case holds only plain data (numbers, arrays, dicts of arrays), so it can cross
a process boundary as it is. ``draw_cases(name, seed)`` is deterministic in
(name, seed): the same seed gives the same cases on every machine, and every seed
gives the same sizes (``PLAN``), so a grade never depends on which sizes were drawn.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import types
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from test_utils import HELPERS, check_result

from .. import GRADED_FUNCTIONS, SPEC

# nn_model and predict call the other graded functions; they are judged with the
# reference versions of those in place, so a bug elsewhere costs its own points only.
USES_HELPERS = HELPERS


@dataclasses.dataclass
class Case:
    """One call of a graded function: ``function(*args, **kwargs)``.

    ``description`` names the case by its sizes only (it may be shown to the student);
    ``dims`` are those sizes, which bound what the stand-in helpers accept.
    """

    args: tuple
    kwargs: dict
    description: str
    dims: dict = dataclasses.field(default_factory=dict)
    hidden: bool = True


# -- the plan: which sizes each function's hidden cases have (course.toml's `hidden`) -----------------
#
# The sizes are designed, not drawn: the same for every submission, chosen so that every dimension a
# function's specification names differs from every other in each case (n_x, n_h, n_y, m pairwise
# different, none equal to the default n_h = 4 where that would hide a hard-coded 4), the output size
# n_y is above 1 wherever the specification allows other output sizes (layer_sizes,
# initialize_parameters), nn_model trains with n_h other than 4 (and n_x other than the flower's 2 in two cases), and
# update_parameters gets the default learning rate once and other rates twice. So a bug that shows only
# for some sizes (an axis taken from the wrong dimension, a fixed n_h, an n_y fixed to 1) shows for every
# submission alike. The values are drawn per submission (from its seed): answers looked up once are
# worth nothing the next time.
PLAN = types.MappingProxyType({function.name: function.hidden for function in SPEC.functions})


def _labels(rng: np.random.Generator, m: int) -> np.ndarray:
    """0/1 labels with both classes present (in random places)."""
    Y = (rng.random((1, m)) > 0.5).astype("uint8")
    Y[0, rng.permutation(m)[:2]] = (0, 1)
    return Y


def _parameters(rng: np.random.Generator, n_x: int, n_h: int, n_y: int = 1, scale: float = 1.0) -> dict:
    return {
        "W1": rng.standard_normal((n_h, n_x)) * scale,
        "b1": rng.standard_normal((n_h, 1)) * scale,
        "W2": rng.standard_normal((n_y, n_h)) * scale,
        "b2": rng.standard_normal((n_y, 1)) * scale,
    }


def _straddling(rng: np.random.Generator, n_x: int, n_h: int, m: int) -> tuple[dict, np.ndarray]:
    """Parameters and inputs whose outputs A2 include 0.525 and 0.475: any threshold other than 0.5
    (or one applied to Z2 instead of A2) mislabels an example, whatever the seed."""
    parameters = _parameters(rng, n_x, n_h)
    X = rng.standard_normal((n_x, m))
    u = (parameters["W2"] @ np.tanh(parameters["W1"] @ X + parameters["b1"]))[0]
    order = np.argsort(u)
    i, j = order[m // 2], order[m // 2 - 1]  # the two middle examples: u[i] > u[j]
    scale = 0.2 / max(u[i] - u[j], 1e-6)
    parameters["W2"] = parameters["W2"] * scale
    parameters["b2"] = np.array([[0.1 - scale * u[i]]])  # Z2[i] = 0.1, Z2[j] = -0.1
    return parameters, X


# -- the recipes: how the values of a function's hidden case are drawn, one per graded function ------
#
# Each takes the generator and the case's planned sizes (course.toml) and returns the case. Code, not
# data: how a case's values are chosen is the designed part of each (both classes among the labels,
# outputs on both sides of 0.5, a learning rate that is neither the default nor 1).


def _layer_sizes(rng: np.random.Generator, size: dict) -> Case:
    n_x, n_y, m = size["n_x"], size["n_y"], size["m"]
    X, Y = rng.standard_normal((n_x, m)), rng.standard_normal((n_y, m))
    return Case((X, Y), {}, f"X {X.shape}, Y {Y.shape}")


def _initialize_parameters(rng: np.random.Generator, size: dict) -> Case:
    n_x, n_h, n_y = size["n_x"], size["n_h"], size["n_y"]
    return Case((n_x, n_h, n_y), {}, f"n_x={n_x}, n_h={n_h}, n_y={n_y}")


def _forward_propagation(rng: np.random.Generator, size: dict) -> Case:
    n_x, n_h, m = size["n_x"], size["n_h"], size["m"]
    X = rng.standard_normal((n_x, m))
    return Case((X, _parameters(rng, n_x, n_h)), {}, f"X {X.shape}, n_h={n_h}")


def _compute_cost(rng: np.random.Generator, size: dict) -> Case:
    n_x, n_h, m = size["n_x"], size["n_h"], size["m"]
    A2 = rng.uniform(0.05, 0.95, (1, m))
    return Case((A2, _labels(rng, m), _parameters(rng, n_x, n_h)), {}, f"m={m}")


def _backward_propagation(rng: np.random.Generator, size: dict) -> Case:
    n_x, n_h, m = size["n_x"], size["n_h"], size["m"]
    X = rng.standard_normal((n_x, m))
    parameters = _parameters(rng, n_x, n_h, scale=0.5)
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": 1 / (1 + np.exp(-Z2))}
    return Case((parameters, cache, X, _labels(rng, m)), {}, f"X {X.shape}, n_h={n_h}")


def _update_parameters(rng: np.random.Generator, size: dict) -> Case:
    n_x, n_h = size["n_x"], size["n_h"]
    parameters = _parameters(rng, n_x, n_h)
    grads = {"d" + key: value for key, value in _parameters(rng, n_x, n_h, scale=0.1).items()}
    rate = size["learning_rate"]
    if rate == "default":
        return Case((parameters, grads), {}, f"n_x={n_x}, n_h={n_h}, learning_rate=default")
    if rate not in ("low", "high"):
        raise ValueError(f'update_parameters: learning_rate is "default", "low" or "high" in the plan, not {rate!r}')
    # a rate of the case's own, never the default 1.2 nor 1 (where a missing factor would not show)
    drawn = rng.uniform(0.05, 0.8) if rate == "low" else rng.uniform(1.6, 3.0)
    return Case(
        (parameters, grads),
        {"learning_rate": float(np.round(drawn, 3))},
        f"n_x={n_x}, n_h={n_h}, learning_rate=given",
    )


def _nn_model(rng: np.random.Generator, size: dict) -> Case:
    n_x, n_h, m = size["n_x"], size["n_h"], size["m"]
    X = rng.standard_normal((n_x, m))
    iterations = size["num_iterations"]
    print_cost = size.get("print_cost", False)
    return Case(
        (X, _labels(rng, m), n_h),
        {"num_iterations": iterations, "print_cost": print_cost},
        f"X {X.shape}, n_h={n_h}, num_iterations={iterations}" + (", print_cost=True" if print_cost else ""),
        {"n_x": n_x, "n_h": n_h, "n_y": 1, "m": m},
    )


def _predict(rng: np.random.Generator, size: dict) -> Case:
    n_x, n_h, m = size["n_x"], size["n_h"], size["m"]
    parameters, X = _straddling(rng, n_x, n_h, m)
    return Case((parameters, X), {}, f"X {X.shape}, n_h={n_h}", {"n_x": n_x, "n_h": n_h, "n_y": 1, "m": m})


_PLANAR_RECIPES: Mapping[str, Callable[[np.random.Generator, dict], Case]] = {
    "layer_sizes": _layer_sizes,
    "initialize_parameters": _initialize_parameters,
    "forward_propagation": _forward_propagation,
    "compute_cost": _compute_cost,
    "backward_propagation": _backward_propagation,
    "update_parameters": _update_parameters,
    "nn_model": _nn_model,
    "predict": _predict,
}


def _recipes() -> Mapping[str, Callable[[np.random.Generator, dict], Case]]:
    """This course's recipes: the module course.toml names (its RECIPES), or the planar course's above."""
    if not SPEC.recipes:
        return _PLANAR_RECIPES
    import importlib

    return importlib.import_module(SPEC.recipes).RECIPES


RECIPES = _recipes()
_UNDRAWN = [name for name in GRADED_FUNCTIONS if name not in RECIPES]
if _UNDRAWN:
    raise ImportError(
        f"course.toml grades {', '.join(_UNDRAWN)}, for which {SPEC.recipes or 'autograder/grading/cases.py'} has "
        "no recipe (RECIPES): write how their hidden cases are drawn"
    )


def draw_cases(name: str, seed: int) -> list[Case]:
    """The hidden cases of one graded function: the sizes of its plan, values drawn from this seed."""
    if name not in PLAN:
        raise KeyError(f"no hidden cases for {name!r}; graded functions are {', '.join(GRADED_FUNCTIONS)}")
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return [RECIPES[name](rng, dict(size)) for size in PLAN[name]]


def visible_case(name: str) -> Case | None:
    """The visible test's case, as the course's testCases builds it (``<name>_test_case()``); None for a
    function whose visible case the grader leaves to the test cell (course.toml: ``visible = false``,
    as nn_model's 10 000 steps); its hidden cases decide."""
    import testCases

    function = SPEC.function(name)
    if not function.visible:
        return None
    args = tuple(getattr(testCases, f"{name}_test_case")())
    dims = case_dims(function, args, {}) if function.calls else {}
    return Case(args, {}, "the visible case", dims, hidden=False)


def case_dims(function, args: tuple, kwargs: dict) -> dict:
    """The sizes of a call, read from its arguments as course.toml describes them (an array's shape, a
    dict's entries, a size): what the stand-ins of the functions it calls then accept."""
    given = dict(zip((argument.name for argument in function.arguments), args), **kwargs)
    dims: dict = {}
    for argument in function.arguments:
        value = given.get(argument.name)
        if argument.kind in ("array", "labels"):
            pairs = zip(argument.shape, np.shape(value))
        elif argument.kind == "dict" and isinstance(value, Mapping):
            pairs = [
                pair for key, shape in argument.entries if key in value for pair in zip(shape, np.shape(value[key]))
            ]
        elif argument.kind == "size":
            pairs = [(argument.dim, value)]
        else:
            pairs = []
        for dim, size in pairs:
            if isinstance(dim, str):
                dims.setdefault(dim, int(size))
    return dims


# -- what the stand-in helpers accept ----------------------------------------------------------------


class HelperCallRejected(Exception):
    """A stand-in helper was called with arguments the real call in this case could not have.

    ``str(error)`` may quote what the student's code passed (the instructor's detail, and the
    student's message on the visible case); ``brief`` says it without anything the student's
    code chose, for hidden cases.
    """

    def __init__(self, message: str, brief: str | None = None):
        super().__init__(message)
        self.brief = brief if brief is not None else message


def _helper_signature(function) -> tuple:
    """A function's arguments as the checks of stand-in calls read them (course.toml's `arguments`)."""
    found = []
    for argument in function.arguments:
        if argument.kind in ("array", "labels"):
            spec = ("array", *argument.shape, argument.kind == "labels")
        elif argument.kind == "dict":
            spec = ("dict", tuple((key, *shape) for key, shape in argument.entries), argument.optional)
        elif argument.kind == "size":
            spec = ("size", argument.dim)
        else:
            spec = (argument.kind,)
        found.append((argument.name, spec))
    return tuple(found)


# helper -> its parameters, each checked as: ("array", rows, columns, labels?), ("dict", entries, optional),
# ("size", dim), ("number",), ("count",), ("flag",) or ("any",)
# (of the functions another one calls: only those have stand-ins)
_CALLED = {called for function in SPEC.functions for called in function.calls}
_HELPER_SIGNATURES = {
    function.name: _helper_signature(function) for function in SPEC.functions if function.name in _CALLED
}
_DEFAULTS = {
    (function.name, argument.name): argument.default
    for function in SPEC.functions
    for argument in function.arguments
    if argument.has_default
}


def _dimension(dims: dict, size) -> int:
    return size if isinstance(size, int) else dims[size]


def _check_array(label: str, value, shape: tuple, labels: bool) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise HelperCallRejected(
            f"{label} should be a numpy array of shape {shape}, not {type(value).__name__}",
            f"{label} should be a numpy array of shape {shape}",
        )
    if value.shape != shape:
        raise HelperCallRejected(
            f"{label} has shape {value.shape}; in this case it has shape {shape}",
            f"{label} has the wrong shape; in this case it has shape {shape}",
        )
    if value.dtype.kind not in ("biuf" if labels else "f"):
        raise HelperCallRejected(
            f"{label} has dtype {value.dtype}; a {'numeric' if labels else 'float'} array is expected"
        )
    return value


def _check_argument(helper: str, label: str, value, spec: tuple, dims: dict):
    kind = spec[0]
    if kind == "array":
        shape = (_dimension(dims, spec[1]), _dimension(dims, spec[2]))
        return _check_array(label, value, shape, spec[3])
    if kind == "dict":
        if not isinstance(value, Mapping):
            raise HelperCallRejected(
                f"{label} should be a dict, not {type(value).__name__}", f"{label} should be a dict"
            )
        checked = {}
        for key, rows, columns in spec[1]:
            if key not in value:
                if key in spec[2]:
                    continue  # carried but not needed
                raise HelperCallRejected(f'{label} has no key "{key}"')
            shape = (_dimension(dims, rows), _dimension(dims, columns))
            checked[key] = _check_array(f'{label}["{key}"]', value[key], shape, False)
        return checked
    if kind == "size":
        want = dims[spec[1]]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value != want:
            raise HelperCallRejected(
                f"{label} is {value!r:.40}; in this case it is {want}", f"{label} is wrong; in this case it is {want}"
            )
        return int(value)
    if kind == "number":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise HelperCallRejected(
                f"{label} should be a number, not {type(value).__name__}", f"{label} should be a number"
            )
        try:
            number = float(value)
        except OverflowError:
            number = float("inf")
        if not np.isfinite(number):
            raise HelperCallRejected(f"{label} should be a finite number")
        return number
    if kind == "count":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
            raise HelperCallRejected(f"{label} should be a count (an int of at least 0)")
        return int(value)
    if kind == "flag":
        if not isinstance(value, (bool, np.bool_)):
            raise HelperCallRejected(f"{label} should be True or False")
        return bool(value)
    return None  # ("any",): an argument the reference does not read is not passed on


def _python_signature(helper: str) -> inspect.Signature:
    """The real function's signature (its names, and the defaults it has), for ``bind``."""
    return inspect.Signature(
        [
            inspect.Parameter(
                name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=_DEFAULTS.get((helper, name), inspect.Parameter.empty),
            )
            for name, _ in _HELPER_SIGNATURES[helper]
        ]
    )


_SIGNATURES = {helper: _python_signature(helper) for helper in _HELPER_SIGNATURES}


def check_helper_call(helper: str, args: tuple, kwargs: dict, dims: dict) -> tuple[tuple, dict]:
    """The arguments of a stand-in call, checked against the case; raise HelperCallRejected if they
    could not come from the real call (other shapes or sizes, other dtypes, unknown arguments)."""
    signature = _SIGNATURES.get(helper)
    if signature is None:
        raise HelperCallRejected(f"{helper} is not available here")
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:  # Python's own words: too many, missing, unknown or repeated arguments
        raise HelperCallRejected(f"{helper}: {str(error)[:120]}", f"{helper} was called with other arguments") from None
    given = dict(bound.arguments)
    bound.apply_defaults()
    return tuple(
        _check_argument(helper, name, value, spec, dims) if name in given else value
        for (name, spec), value in zip(_HELPER_SIGNATURES[helper], bound.args)
    ), {}


def with_helpers(function: Callable, helpers: Mapping[str, Callable]) -> Callable:
    """A copy of ``function`` whose global names in ``helpers`` resolve to those instead.

    The copy reads every other global from a snapshot of the function's own
    globals; callables that are not plain functions are returned unchanged.
    """
    if not isinstance(function, types.FunctionType):
        return function
    namespace = dict(function.__globals__)
    namespace.update(helpers)
    clone = types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )
    clone.__kwdefaults__ = function.__kwdefaults__
    return clone


def expected_result(name: str, case: Case, reference: Mapping[str, Callable]) -> Any:
    """What the reference returns for this case (on its own copy of the inputs)."""
    return reference[name](*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))


def compare_result(name: str, got: Any, expected: Any, case: Case | None = None, language: str = "en") -> None:
    """Raise test_utils.WrongResult saying how ``got`` differs from the reference's ``expected``.

    The same comparison as the visible tests' (``test_utils.check_result``).
    """
    check_result(name, got, expected, case.args if case else (), case.kwargs if case else {}, language=language)
