"""Plain data across the kernel boundary: JSON with numeric arrays, nothing executable.

This module runs on both sides: the grader imports it, and its source is sent
into the kernel as part of every probe (so it imports only json, base64, numpy
and collections.abc). Values keep their kind: a NumPy scalar stays a NumPy
scalar of its dtype, a 0-d array stays 0-d, a Python number stays a Python
number. Any mapping with string keys travels as a dict, any tuple (namedtuples
too) as a tuple, any list as a list. Anything else a function returns is
reported as ``Unsupported`` with its type name, never reconstructed.

The decoder treats its input as hostile: it accepts only the forms the encoder
writes, bounds nesting, array rank and size, and raises ValueError on anything else.
"""

import base64
import json
from collections.abc import Mapping

import numpy as np

NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float
MAX_DEPTH = 20
MAX_NDIM = 8
MAX_ARRAY_BYTES = 64 * 1024 * 1024
MAX_NODES = 10_000  # values in one decoded structure (a result is a handful of arrays)
MAX_KEY_CHARS = 100
MAX_TEXT_CHARS = 10_000  # a string inside a value


class Unsupported:
    """A value the codec does not carry; only its type name crosses."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:100]

    def __repr__(self):
        return f"<{self.type_name}>"

    def __eq__(self, other):
        return isinstance(other, Unsupported) and other.type_name == self.type_name


def to_plain(value, depth=0):
    """A JSON-serialisable form of ``value``."""
    if depth > MAX_DEPTH:
        return {"__unsupported__": "too deeply nested value"}
    if value is None or type(value) in (bool, str):
        return value
    if type(value) in (int, float):
        if type(value) is float and not np.isfinite(value):
            return {"__float__": repr(value)}
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind not in NUMERIC_KINDS:
            return {"__unsupported__": f"numpy {type(value).__name__}"}
        return {"__scalar__": _array(np.asarray(value))}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in NUMERIC_KINDS:
            return {"__unsupported__": f"numpy array of dtype {value.dtype}"}
        return {"__array__": _array(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [to_plain(item, depth + 1) for item in value]}
    if isinstance(value, list):
        return [to_plain(item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        items = list(value.items())
        if not all(type(key) is str for key, _ in items):
            return {"__unsupported__": f"{type(value).__name__} with keys that are not strings"}
        return {"__dict__": [[key, to_plain(item, depth + 1)] for key, item in items]}
    if isinstance(value, (int, float)):  # subclasses of Python numbers (an IntEnum, say)
        return to_plain(float(value) if isinstance(value, float) else int(value), depth)
    return {"__unsupported__": type(value).__name__}


def _array(value):
    value = np.array(value, order="C")  # a copy that keeps 0-d arrays 0-d
    return {
        "dtype": value.dtype.str,
        "shape": list(value.shape),
        "data": base64.b64encode(value.tobytes()).decode("ascii"),
    }


def _shape(raw):
    if not isinstance(raw, list) or len(raw) > MAX_NDIM:
        raise ValueError("malformed array shape")
    if not all(type(n) is int and 0 <= n <= MAX_ARRAY_BYTES for n in raw):
        raise ValueError("malformed array shape")
    return tuple(raw)


def _from_array(body, scalar):
    if not isinstance(body, dict) or set(body) != {"dtype", "shape", "data"}:
        raise ValueError("malformed array")
    if not isinstance(body["dtype"], str) or len(body["dtype"]) > 8:
        raise ValueError("malformed dtype")
    try:
        dtype = np.dtype(body["dtype"])
    except TypeError:
        raise ValueError(f"unknown dtype {body['dtype']!r}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"dtype {dtype} is not carried")
    shape = _shape(body["shape"])
    if scalar and shape != ():
        raise ValueError("a scalar must have shape ()")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize > MAX_ARRAY_BYTES:
        raise ValueError("array too large")
    if not isinstance(body["data"], str):
        raise ValueError("malformed array data")
    try:
        raw = base64.b64decode(body["data"], validate=True)
    except ValueError:
        raise ValueError("malformed array data") from None
    if len(raw) != count * dtype.itemsize:
        raise ValueError("array data does not match its shape")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return array[()] if scalar else array


def from_plain(data, depth=0, budget=None):
    """Rebuild a value from ``to_plain``'s form; raises ValueError on anything else, or on anything larger
    than the caps (nesting, number of values, key and string lengths, array sizes)."""
    if budget is None:
        budget = [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"value with more than {MAX_NODES} parts")
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if data is None or type(data) in (bool, int, float):
        return data
    if type(data) is str:
        if len(data) > MAX_TEXT_CHARS:
            raise ValueError("string too long")
        return data
    if type(data) is list:
        return [from_plain(item, depth + 1, budget) for item in data]
    if type(data) is not dict or len(data) != 1:
        raise ValueError("malformed value")
    ((tag, body),) = data.items()
    if tag == "__tuple__" and type(body) is list:
        return tuple(from_plain(item, depth + 1, budget) for item in body)
    if tag == "__dict__" and type(body) is list:
        result = {}
        for pair in body:
            if not (type(pair) is list and len(pair) == 2 and type(pair[0]) is str):
                raise ValueError("malformed dict entry")
            if len(pair[0]) > MAX_KEY_CHARS:
                raise ValueError("dict key too long")
            result[pair[0]] = from_plain(pair[1], depth + 1, budget)
        return result
    if tag in ("__array__", "__scalar__"):
        return _from_array(body, tag == "__scalar__")
    if tag == "__float__" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "__unsupported__" and type(body) is str:
        return Unsupported(body)
    raise ValueError(f"unknown tag {str(tag)[:40]!r}")


def dumps(value):
    return json.dumps(to_plain(value), separators=(",", ":"))


def loads(text):
    """Decode ``dumps``'s text; ValueError on anything malformed, however deep, large or odd."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("value nested too deeply") from None
    return from_plain(data)
