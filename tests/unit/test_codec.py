"""The codec: what crosses the kernel boundary. The decoder's input is written by student code."""

import base64
import json

import numpy as np
import pytest

from autograder.grading import codec


def encoded_array(dtype="<f8", shape=(2,), data=None):
    raw = data if data is not None else np.zeros(int(np.prod(shape)), dtype=dtype).tobytes()
    return {"__array__": {"dtype": dtype, "shape": list(shape), "data": base64.b64encode(raw).decode()}}


def test_round_trip_of_the_values_graded_functions_return():
    value = {
        "W1": np.arange(6.0).reshape(2, 3),
        "sizes": (2, 4, 1),
        "cost": np.float64(0.5),
        "flags": [True, None],
        "nan": float("nan"),
        "name": "x",
        "labels": np.array([[True, False]]),
    }
    back = codec.loads(codec.dumps(value))
    assert np.array_equal(back["W1"], value["W1"]) and back["W1"].dtype == np.float64
    assert back["sizes"] == (2, 4, 1) and type(back["cost"]) is np.float64
    assert back["flags"] == [True, None] and np.isnan(back["nan"]) and back["name"] == "x"
    assert back["labels"].dtype == bool


@pytest.mark.parametrize(
    "value, name",
    [
        (np.array(["a"]), "numpy array of dtype <U1"),
        (np.array([1 + 2j]), "numpy array of dtype complex128"),
        (np.array([object()]), "numpy array of dtype object"),
        ({1: 2}, "dict with keys that are not strings"),
        ({1, 2}, "set"),
        (lambda: 0, "function"),
        (np.complex128(1j), "numpy complex128"),
    ],
)
def test_what_is_not_carried_is_named_not_rebuilt(value, name):
    back = codec.loads(codec.dumps(value))
    assert isinstance(back, codec.Unsupported) and back.type_name == name


def test_a_value_nested_too_deeply_is_cut_off_when_encoded():
    value = []
    for _ in range(100):
        value = [value]
    assert "too deeply nested value" in codec.dumps(value)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than json can parse
        json.dumps({"__tuple__": 1}),
        json.dumps({"__dict__": [[1, 2]]}),
        json.dumps({"__dict__": [["a"]]}),
        json.dumps({"__weird__": 1}),
        json.dumps({"a": 1, "b": 2}),
        json.dumps({"__float__": "1e400"}),
        json.dumps(encoded_array(dtype="O")),
        json.dumps(encoded_array(dtype="V8")),
        json.dumps(encoded_array(dtype="(2,)f8")),
        json.dumps(encoded_array(dtype="M8[s]")),
        json.dumps(encoded_array(dtype="c16")),
        json.dumps(encoded_array(dtype="U1")),
        json.dumps(encoded_array(shape=(3,), data=b"\0" * 8)),  # data shorter than the shape
        json.dumps(encoded_array(shape=(10**9, 10**9), data=b"")),  # absurd shape
        json.dumps(encoded_array(shape=(1,) * 40, data=b"\0" * 8)),  # too many dimensions
        json.dumps({"__array__": {"dtype": "<f8", "shape": [-1], "data": ""}}),
        json.dumps({"__array__": {"dtype": "<f8", "shape": [1.5], "data": ""}}),
        json.dumps({"__array__": {"dtype": "<f8", "shape": [True], "data": ""}}),
        json.dumps({"__array__": {"dtype": "<f8", "shape": [1], "data": "not base64!"}}),
        json.dumps({"__array__": {"dtype": "<f8", "shape": [1], "data": 5}}),
        json.dumps({"__array__": {"dtype": "<f8", "shape": [1], "data": "", "extra": 1}}),
        json.dumps({"__array__": {"dtype": 8, "shape": [1], "data": ""}}),
        json.dumps({"__array__": {"dtype": "<f8" * 10, "shape": [1], "data": ""}}),
        json.dumps({"__scalar__": {"dtype": "<f8", "shape": [2], "data": base64.b64encode(b"\0" * 16).decode()}}),
        "not json",
    ],
)
def test_the_decoder_refuses_anything_the_encoder_does_not_write(text):
    with pytest.raises(ValueError):
        codec.loads(text)


def test_the_decoder_bounds_nesting_of_its_own_forms():
    value = {"__tuple__": []}
    for _ in range(50):
        value = {"__tuple__": [value]}
    with pytest.raises(ValueError, match="nested too deeply"):
        codec.from_plain(value)
