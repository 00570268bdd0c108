"""Visible tests of the eight graded functions, with short messages that say what is wrong.

Each ``<function>_test(target)`` runs the walk-through's case (from testCases.py),
prints your values next to the expected ones and, when they differ, stops with a
few lines: what is wrong, yours against expected, and, when the result matches a
classic mistake of this exercise, which one and where to look.

``check_result(name, got, expected)`` is the one comparison of the course: the
visible tests use it with the expected values below, the autograder with the
reference's results on its hidden cases. What passes one passes the other.
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from collections.abc import Mapping

import numpy as np

from testCases import (
    backward_propagation_test_case,
    compute_cost_test_case,
    forward_propagation_test_case,
    initialize_parameters_test_case,
    layer_sizes_test_case,
    nn_model_test_case,
    predict_test_case,
    update_parameters_test_case,
)

__all__ = [
    "layer_sizes_test",
    "initialize_parameters_test",
    "forward_propagation_test",
    "compute_cost_test",
    "backward_propagation_test",
    "update_parameters_test",
    "nn_model_test",
    "predict_test",
]

RTOL = 1e-5
ATOL = 1e-7
TOLERANCE = {"nn_model": {"rtol": 1e-4, "atol": 1e-6}}  # 10 000 steps amplify rounding differences

# nn_model and predict call the other graded functions.
HELPERS = {
    "nn_model": (
        "layer_sizes",
        "initialize_parameters",
        "forward_propagation",
        "compute_cost",
        "backward_propagation",
        "update_parameters",
    ),
    "predict": ("forward_propagation",),
}


# -- the course's language ------------------------------------------------------------------------


def _language() -> str:
    """ "zh" in the Chinese edition (its folder holds a file course_language saying so), else "en"."""
    try:
        with open("course_language", encoding="utf-8") as handle:
            return "zh" if handle.read().strip() == "zh" else "en"
    except OSError:
        return "en"


LANGUAGE = _language()

# Every text a test can print, in English and Chinese. Code and numbers stay as they are.
MESSAGES = {
    # results
    "passed": ("All tests passed for {name}.", "{name} 的全部测试都通过了。"),
    "yours": ("yours", "你的"),
    "expected": ("expected", "期望"),
    "not_implemented": (
        "{name} is not implemented yet: replace the line `raise NotImplementedError()` with your code.",
        "{name} 还没有实现：请把 `raise NotImplementedError()` 这一行换成你的代码。",
    ),
    "raised": (
        "{name} raised {ename}; the traceback below shows where in your code.",
        "{name} 抛出了 {ename}；下面的回溯信息指出了它在你代码中的位置。",
    ),
    "not_array": (
        "{label} should be a numpy array of shape {shape}, got {type}",
        "{label} 应该是形状为 {shape} 的 numpy 数组，却得到了 {type}",
    ),
    "not_array_brief": (
        "{label} should be a numpy array of shape {shape}",
        "{label} 应该是形状为 {shape} 的 numpy 数组",
    ),
    "shape": ("{label} has shape {got}, expected {shape}", "{label} 的形状是 {got}，应为 {shape}"),
    "shape_brief": ("{label} has the wrong shape, expected {shape}", "{label} 的形状不对，应为 {shape}"),
    "dtype_float": ("{label} has dtype {dtype}, expected a float array", "{label} 的 dtype 是 {dtype}，应为浮点数组"),
    "dtype_int_hint": (
        " (did you use integer zeros? np.zeros gives floats)",
        "（是不是用了整数零？`np.zeros` 默认给出浮点数）",
    ),
    "dtype_labels": (
        "{label} has dtype {dtype}; predictions must be 0/1 numbers or booleans",
        "{label} 的 dtype 是 {dtype}；预测值必须是 0/1 数字或布尔值",
    ),
    "not_labels": ("{label} must hold only 0 and 1", "{label} 只能包含 0 和 1"),
    "not_labels_at": ("; {label}{where} is {value}", "；{label}{where} 是 {value}"),
    "nonfinite": (
        "{label} contains {count} {what} value(s), first at {label}{where}",
        "{label} 含有 {count} 个 {what}，第一个在 {label}{where}",
    ),
    "nonfinite_brief": ("{label} contains {what} values", "{label} 含有 {what}"),
    "labels_wrong_brief": ("{label} is wrong for some examples", "{label} 对部分样本的预测不对"),
    "labels_wrong": (
        "{label} is wrong at {count} of {size} examples",
        "{label} 在 {size} 个样本中有 {count} 个预测错误",
    ),
    "labels_first": (
        "; first at {where}: got {got:g}, expected {expected:g}",
        "；第一个在 {where}：得到 {got:g}，应为 {expected:g}",
    ),
    "values": (
        "{label} differs from the expected values at {count} of {size} entries",
        "{label} 与期望值在 {size} 个元素中有 {count} 个不同",
    ),
    "values_brief": ("{label} differs from the expected values", "{label} 与期望值不同"),
    "values_worst": (
        "; the largest difference is at {label}{where}: got {got:.8g}, expected {expected:.8g} ({off})",
        "；差得最多的是 {label}{where}：得到 {got:.8g}，应为 {expected:.8g}（{off}）",
    ),
    "scalar_array": (
        "{label} should be a single number, got an array of shape {shape}",
        "{label} 应该是一个数，却得到了形状为 {shape} 的数组",
    ),
    "scalar_array_brief": ("{label} should be a single number, not an array", "{label} 应该是一个数，而不是数组"),
    "too_high": ("{gap:.3g} too high", "偏大 {gap:.3g}"),
    "too_low": ("{gap:.3g} too low", "偏小 {gap:.3g}"),
    "scalar_squeeze": (" (use np.squeeze or float())", "（请用 `np.squeeze` 或 `float()`）"),
    "scalar_type": ("{label} should be a number, got {type}", "{label} 应该是一个数，却得到了 {type}"),
    "scalar_nonfinite": ("{label} is {got}, expected a finite number", "{label} 是 {got}，应为有限的数"),
    "scalar_wrong": ("{label} has the wrong value", "{label} 的值不对"),
    "scalar_values": (
        "{label} is {got:.10g}, expected {expected:.10g} ({off})",
        "{label} 是 {got:.10g}，应为 {expected:.10g}（{off}）",
    ),
    "not_dict": (
        "{label} should be a dict with keys {keys}, got {type}",
        "{label} 应该是含有键 {keys} 的字典，却得到了 {type}",
    ),
    "missing_keys": ("{label} is missing the key(s) {missing}; it has {has}", "{label} 缺少键 {missing}；它只有 {has}"),
    "missing_keys_brief": ("{label} is missing the key(s) {missing}", "{label} 缺少键 {missing}"),
    "sizes_tuple": (
        "layer_sizes should return a tuple (n_x, n_h, n_y), got {type}",
        "layer_sizes 应返回元组 `(n_x, n_h, n_y)`，却得到了 {type}",
    ),
    "sizes_tuple_brief": (
        "layer_sizes should return a tuple (n_x, n_h, n_y)",
        "layer_sizes 应返回元组 `(n_x, n_h, n_y)`",
    ),
    "size_wrong": ("{label} is {got!r}, expected {expected}", "{label} 是 {got!r}，应为 {expected}"),
    "size_wrong_brief": ("{label} is wrong", "{label} 不对"),
    "size_not_int": ("{label} should be an int, got {type}", "{label} 应该是整数，却得到了 {type}"),
    "pair": (
        "forward_propagation should return (A2, cache), got {type}",
        "forward_propagation 应返回 `(A2, cache)`，却得到了 {type}",
    ),
    "a2_not_cached": ('the returned A2 differs from cache["A2"]', '返回的 A2 与 cache["A2"] 不一致'),
    # functions that call other graded functions
    "helper_missing": (
        "{function} calls {helper}, which is not defined: run its cell first.",
        "{function} 调用了 {helper}，但它还没有定义：请先运行它所在的单元格。",
    ),
    "helper_fails": (
        "{function} calls your {helper}, whose test above fails: fix it first ({reason}).",
        "{function} 调用了你的 {helper}，而它在上面的测试没有通过：请先改正它（{reason}）。",
    ),
    "hint": ("hint", "提示"),
    # the gradient check
    "cost_first": (
        "compute_cost must be right before gradients can be checked against it: {problem}. Fix "
        "compute_cost first; the gradient check says nothing about backward_propagation until "
        "then.",
        "梯度检验以你的代价函数为准，所以 compute_cost 必须先正确：{problem}。请先改正 compute_cost；在那之前，梯度检验无法评判 "
        "backward_propagation。",
    ),
    "check_stopped": (
        "The gradient check stopped: {reason}. The test below says more.",
        "梯度检验停止了：{reason}。下面的测试会给出更多信息。",
    ),
    "cost_at_half": (
        "predicting 0.5 for every example must cost log 2 = 0.693147, your compute_cost gives {cost:.6g}",
        "对每个样本都预测 0.5 时，代价应为 `log 2 = 0.693147`，你的 compute_cost 却给出 {cost:.6g}",
    ),
    "cost_at_guess": (
        "for a fixed guess your compute_cost gives {cost:.6g}, equation (6) gives {expected:.6g}",
        "对一组固定的预测，你的 compute_cost 给出 {cost:.6g}，按公式（6）应为 {expected:.6g}",
    ),
    "hidden_passed": (
        "Hidden tests passed for {name} ({count} cases).",
        "{name} 的隐藏测试全部通过（{count} 个用例）。",
    ),
    # A right gradient's relative difference is rounding noise (about 1e-9, different on every CPU and
    # BLAS build): only the bound is printed. A wrong one's size tells how wrong, so it is printed.
    "gradient_line_ok": (
        "d{name}: relative difference < {threshold:.0e}  ok",
        "d{name}：相对误差 < {threshold:.0e}  正确",
    ),
    "gradient_line_bad": (
        "d{name}: relative difference {difference:.1e}  CHECK THIS GRADIENT",
        "d{name}：相对误差 {difference:.1e}  请检查这个梯度",
    ),
}

# The classic mistakes of this exercise: what each one's result looks like is recognised
# below (by relations that hold for any input) or by the fingerprints at the end of this file.
MISTAKES = {
    "sizes_examples": (
        "n_x and n_y are sizes of layers: the number of rows of X and of Y (shape[0]), not "
        "the number of examples (shape[1]).",
        "n_x 和 n_y 是层的大小：X 和 Y 的行数（`shape[0]`），不是样本数（`shape[1]`）。",
    ),
    "sizes_swapped": (
        "n_x and n_y are swapped: n_x is the number of rows of X, n_y that of Y.",
        "n_x 和 n_y 弄反了：n_x 是 X 的行数，n_y 是 Y 的行数。",
    ),
    "sizes_hidden": ("n_h is the size of the hidden layer, 4 in this exercise.", "n_h 是隐藏层的大小，本练习中为 4。"),
    "init_zero_weights": (
        "the weights are all zero: every hidden unit would then compute the same thing "
        "forever (symmetry). Draw them with np.random.randn(...) * 0.01.",
        "权重全为零：这样每个隐藏单元会永远计算同样的东西（对称性问题）。请用 `np.random.randn(...) * 0.01` 生成。",
    ),
    "init_unscaled": (
        "the weights are 100 times too large: multiply the random numbers by 0.01.",
        "权重大了 100 倍：随机数要乘以 0.01。",
    ),
    "init_swapped_shape": (
        "the two sizes of {key} are swapped: W1 is (n_h, n_x) and W2 is (n_y, n_h).",
        "{key} 的两个维度弄反了：W1 是 `(n_h, n_x)`，W2 是 `(n_y, n_h)`。",
    ),
    "init_nonzero_bias": (
        "the biases must start at zero: np.zeros((n, 1)).",
        "偏置的初值必须为零：`np.zeros((n, 1))`。",
    ),
    "init_uniform": (
        "the weights come from np.random.rand (uniform on [0, 1)); use np.random.randn (standard normal).",
        "权重来自 `np.random.rand`（`[0, 1)` 上的均匀分布）；应使用 `np.random.randn`（标准正态分布）。",
    ),
    "init_order": (
        "draw W1 first, then W2: the order of the draws decides the numbers.",
        "先生成 W1，再生成 W2：生成的顺序决定了得到的数值。",
    ),
    "forward_sigmoid_hidden": (
        "A1 looks like sigmoid(Z1): the hidden layer uses tanh, equation (2).",
        "A1 看起来是 `sigmoid(Z1)`：隐藏层用的是 tanh，见公式（2）。",
    ),
    "forward_no_hidden_activation": (
        "A1 equals Z1: apply tanh, equation (2).",
        "A1 等于 Z1：要用 tanh 激活，见公式（2）。",
    ),
    "forward_no_output_sigmoid": (
        "A2 equals Z2: apply the sigmoid, equation (4).",
        "A2 等于 Z2：要用 sigmoid 激活，见公式（4）。",
    ),
    "forward_tanh_output": (
        "A2 looks like tanh(Z2): the output layer uses the sigmoid, equation (4).",
        "A2 看起来是 `tanh(Z2)`：输出层用的是 sigmoid，见公式（4）。",
    ),
    "forward_no_bias": (
        "{key} lacks the bias: Z1 = W1 X + b1 and Z2 = W2 A1 + b2, equations (1) and (3).",
        "{key} 少加了偏置：`Z1 = W1 X + b1`，`Z2 = W2 A1 + b2`，见公式（1）和（3）。",
    ),
    "cost_no_mean": (
        "your cost is m times too large: did you divide by m? Equation (6) averages over the m examples.",
        "你的代价大了 m 倍：是不是忘了除以 m？公式（6）是对 m 个样本取平均。",
    ),
    "cost_sign": (
        "your cost has the wrong sign: equation (6) starts with a minus, so the cost is positive.",
        "你的代价符号反了：公式（6）前面有一个负号，所以代价是正数。",
    ),
    "cost_rounded": (
        "your cost is rounded: return the exact value, do not use np.round.",
        "你的代价被四舍五入了：请返回精确值，不要用 `np.round`。",
    ),
    "cost_one_term": (
        "only one of the two terms of equation (6) is there: add y log(a) and (1 - y) log(1 - a).",
        "公式（6）的两项只算了一项：`y log(a)` 和 `(1 - y) log(1 - a)` 都要加上。",
    ),
    "cost_swapped_logs": (
        "log(a) and log(1 - a) are swapped: y goes with log(a), (1 - y) with log(1 - a), equation (6).",
        "`log(a)` 和 `log(1 - a)` 弄反了：y 对应 `log(a)`，`(1 - y)` 对应 `log(1 - a)`，见公式（6）。",
    ),
    "grad_no_mean": (
        "{key} is m times too large: divide by m, equations (8), (9), (11) and (12).",
        "{key} 大了 m 倍：要除以 m，见公式（8）、（9）、（11）和（12）。",
    ),
    "grad_sign": (
        "the gradients have the wrong sign: dZ2 = A2 - Y, equation (7).",
        "梯度的符号反了：`dZ2 = A2 - Y`，见公式（7）。",
    ),
    "grad_keepdims": (
        "{key} lost its column shape: use np.sum(dZ, axis=1, keepdims=True).",
        "{key} 丢失了列向量的形状：请用 `np.sum(dZ, axis=1, keepdims=True)`。",
    ),
    "grad_transposed": (
        "{key} is transposed: dW1 = dZ1 X^T / m and dW2 = dZ2 A1^T / m, equations (8) and (11).",
        "{key} 被转置了：`dW1 = dZ1 X^T / m`，`dW2 = dZ2 A1^T / m`，见公式（8）和（11）。",
    ),
    "grad_in_dz1": (
        "dW2 and db2 are right but dW1 and db1 are not: the mistake is in dZ1, equation (10).",
        "dW2 和 db2 正确，dW1 和 db1 却不对：错误出在 dZ1，见公式（10）。",
    ),
    "grad_no_tanh_derivative": (
        "tanh's derivative is missing: dZ1 = W2^T dZ2 * (1 - A1^2), equation (10).",
        "缺少 tanh 的导数：`dZ1 = W2^T dZ2 * (1 - A1^2)`，见公式（10）。",
    ),
    "grad_derivative_a1": (
        "tanh's derivative is 1 - A1^2, not A1: dZ1 = W2^T dZ2 * (1 - A1^2), equation (10).",
        "tanh 的导数是 `1 - A1^2`，不是 A1：`dZ1 = W2^T dZ2 * (1 - A1^2)`，见公式（10）。",
    ),
    "grad_sigmoid_derivative": (
        "that is the sigmoid's derivative, A1 (1 - A1); the hidden layer uses "
        "tanh, whose derivative is 1 - A1^2, equation (10).",
        "这是 sigmoid 的导数 `A1 (1 - A1)`；隐藏层用的是 tanh，它的导数是 `1 - A1^2`，见公式（10）。",
    ),
    "grad_derivative_z1": (
        "tanh's derivative uses A1, not Z1: 1 - A1^2, equation (10).",
        "tanh 的导数要用 A1 而不是 Z1：`1 - A1^2`，见公式（10）。",
    ),
    "update_sign": (
        "the parameters moved up the gradient: subtract, theta = theta - alpha d_theta, equation (13).",
        "参数沿梯度方向增大了：应该减去，`theta = theta - alpha d_theta`，见公式（13）。",
    ),
    "update_no_step": ("the parameters did not change: return the updated values.", "参数没有变化：请返回更新后的值。"),
    "update_fixed_rate": (
        "the step does not use the learning_rate argument: use it, not a fixed number.",
        "更新步长没有使用参数 learning_rate：请用它，而不是固定的数。",
    ),
    "model_untrained": (
        "these are the initial parameters: nn_model must run num_iterations steps of "
        "gradient descent and return the trained parameters.",
        "这是初始参数：nn_model 要执行 num_iterations 步梯度下降，并返回训练后的参数。",
    ),
    "model_fixed_hidden": (
        "W1 has 4 rows whatever n_h is: pass n_h (the argument) to initialize_parameters.",
        "无论 n_h 是多少，W1 都是 4 行：请把参数 n_h 传给 initialize_parameters。",
    ),
    "predict_probabilities": (
        "these are probabilities, not labels: return 1 where A2 > 0.5 and 0 elsewhere, equation (5).",
        "这些是概率而不是标签：`A2 > 0.5` 处为 1，其余为 0，见公式（5）。",
    ),
    "predict_inverted": (
        "the labels are inverted: predict 1 where A2 > 0.5, equation (5).",
        "标签正好反了：`A2 > 0.5` 处应预测为 1，见公式（5）。",
    ),
}


def say(message_id: str, /, **fields) -> str:
    """A message in the course's language."""
    texts = MESSAGES.get(message_id) or MISTAKES[message_id]
    return texts[LANGUAGE == "zh"].format(**fields)


# -- failures that read as a few lines -----------------------------------------------------------


class TestFailure(AssertionError):
    """A visible test failed; shown as a few lines (what is wrong, what to do), not a traceback.

    IPython calls ``_render_traceback_`` to show an exception, so the failure does not
    drag the test helpers' code along with it.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message + (f"\n{say('hint')}: {hint}" if hint else ""))
        self.message = message
        self.hint = hint

    def _render_traceback_(self) -> list[str]:
        lines = [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self.message}"]
        if self.hint:
            lines.append(f"\x1b[0;33m{say('hint')}\x1b[0m: {self.hint}")
        return lines


class NotImplementedYet(TestFailure):
    """The function still holds the placeholder of the release notebook."""


class WrongResult(TestFailure):
    """A result that differs from the expected one.

    ``message`` may quote values (the visible case); ``brief`` says the same without
    any value, for cases whose inputs and results stay hidden; ``mistake`` names the
    classic mistake the result matches, if one does, and ``hint`` says it in words.
    """

    def __init__(self, message: str, brief: str | None = None, mistake: str | None = None, hint: str = ""):
        super().__init__(message, hint)
        self.brief = brief if brief is not None else message
        self.mistake = mistake


class HelperFails(TestFailure):
    """A function under test calls another graded function that fails its own test."""


def call_student(function, *args, **kwargs):
    """Call a student's function and return its result.

    Warnings and anything written to stderr are replayed on stdout as notes (a
    warning is not a mistake, and nbgrader would zero a cell that prints to
    stderr); the placeholder's NotImplementedError becomes a clear message; any
    other error shows its traceback through the student's code only.
    """
    name = getattr(function, "__name__", "the function")
    stderr = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
        warnings.simplefilter("always")
        try:
            result = function(*args, **kwargs)
        except NotImplementedError:
            raise NotImplementedYet(say("not_implemented", name=name)) from None
        except TestFailure:
            raise
        except Exception as error:
            _show_only_student_frames(error, name)
            raise
    for w in caught:
        print(f"note: {name} warned: {w.category.__name__}: {w.message}")
    if stderr.getvalue():
        print(f"note: {name} wrote to stderr: {stderr.getvalue().strip()[:500]}")
    return result


def _show_only_student_frames(error: BaseException, name: str) -> None:
    """Make IPython show ``error`` with the frames of the student's code only."""
    tb = error.__traceback__.tb_next if error.__traceback__ is not None else None  # drop call_student

    def render() -> list[str]:
        header = f"\x1b[0;31m{say('raised', name=name, ename=type(error).__name__)}\x1b[0m"
        try:
            shell = get_ipython()  # noqa: F821 - defined inside IPython
            lines = shell.InteractiveTB.structured_traceback(type(error), error, tb)
        except Exception:  # noqa: BLE001 - outside IPython, or an IPython without that formatter
            lines = traceback.format_exception(type(error), error, tb)
        return [header, *lines]

    try:
        error._render_traceback_ = render
    except AttributeError:  # an exception type that takes no attributes: shown in full
        pass


# -- the comparison --------------------------------------------------------------------------------


def _where(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _type_name(value) -> str:
    return type(value).__name__


def check_array(label: str, got, shape: tuple, kind: str = "float") -> None:
    """Raise WrongResult unless ``got`` is an array of this shape with sound values.

    kind "float": a floating-point array without NaN or inf; kind "labels": bool or
    numbers holding only 0 and 1.
    """
    shape = tuple(shape)
    if not isinstance(got, np.ndarray):
        raise WrongResult(
            say("not_array", label=label, shape=shape, type=_type_name(got)),
            say("not_array_brief", label=label, shape=shape),
        )
    if got.shape != shape:
        raise WrongResult(
            say("shape", label=label, got=got.shape, shape=shape), say("shape_brief", label=label, shape=shape)
        )
    if kind == "labels":
        if not (got.dtype == bool or got.dtype.kind in "iuf"):
            raise WrongResult(say("dtype_labels", label=label, dtype=got.dtype))
        with np.errstate(invalid="ignore"):
            bad = ~np.isin(got.astype(float), (0.0, 1.0))
        if bad.any():
            first = tuple(np.argwhere(bad)[0])
            brief = say("not_labels", label=label)
            raise WrongResult(
                brief + say("not_labels_at", label=label, where=_where(first), value=repr(got[first].item())), brief
            )
        return
    if got.dtype.kind != "f":
        hint = say("dtype_int_hint") if got.dtype.kind in "iub" else ""
        raise WrongResult(say("dtype_float", label=label, dtype=got.dtype) + hint)
    for what, mask in (("NaN", np.isnan(got)), ("inf", np.isinf(got))):
        if mask.any():
            first = tuple(np.argwhere(mask)[0])
            raise WrongResult(
                say("nonfinite", label=label, count=int(mask.sum()), what=what, where=_where(first)),
                say("nonfinite_brief", label=label, what=what),
            )


def check_value(label: str, got, expected, rtol: float = RTOL, atol: float = ATOL, kind: str = "float") -> None:
    """Raise WrongResult naming what is wrong with ``got`` against ``expected``.

    kind: "float" for real-valued arrays and scalars, "labels" for 0/1 predictions
    (bool, int or float holding only 0 and 1 are all accepted).
    """
    expected = np.asarray(expected)
    if expected.ndim == 0:
        _check_scalar(label, got, float(expected), rtol, atol)
        return
    check_array(label, got, expected.shape, kind=kind)
    if kind == "labels":
        values = got.astype(float)
        wrong = values != expected.astype(float)
        if wrong.any():
            first = tuple(np.argwhere(wrong)[0])
            raise WrongResult(
                say("labels_wrong", label=label, count=int(wrong.sum()), size=wrong.size)
                + say("labels_first", where=_where(first), got=values[first], expected=float(expected[first])),
                say("labels_wrong_brief", label=label),
            )
        return
    # An entry near zero is often a sum of terms of the array's own size that cancel, so its rounding error
    # scales with the array, not with the entry: float32 work (7 digits) passes, a real mistake does not.
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    close = np.isclose(got, expected, rtol=rtol, atol=max(atol, rtol * scale))
    if not close.all():
        difference = np.abs(got.astype(float) - expected)
        worst = tuple(np.unravel_index(np.argmax(np.where(close, 0, difference)), got.shape))
        raise WrongResult(
            say("values", label=label, count=int((~close).sum()), size=close.size)
            + say(
                "values_worst",
                label=label,
                where=_where(worst),
                got=float(got[worst]),
                expected=float(expected[worst]),
                off=_off(float(got[worst]) - float(expected[worst])),
            ),
            say("values_brief", label=label),
        )


def _off(difference: float) -> str:
    """How far a value is from the expected one, in words: "0.193 too low"."""
    return say("too_high" if difference > 0 else "too_low", gap=abs(difference))


def _check_scalar(label: str, got, expected: float, rtol: float, atol: float) -> None:
    if isinstance(got, np.ndarray) and got.ndim > 0:
        hint = say("scalar_squeeze") if got.size == 1 else ""
        raise WrongResult(
            say("scalar_array", label=label, shape=got.shape) + hint, say("scalar_array_brief", label=label)
        )
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number, np.ndarray)):
        raise WrongResult(say("scalar_type", label=label, type=_type_name(got)))
    if isinstance(got, np.ndarray) and got.dtype.kind not in "iuf":
        raise WrongResult(say("scalar_type", label=label, type=f"an array of dtype {got.dtype}"))
    value = float(got)
    if not np.isfinite(value):
        raise WrongResult(say("scalar_nonfinite", label=label, got=value), say("scalar_wrong", label=label))
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        raise WrongResult(
            say("scalar_values", label=label, got=value, expected=expected, off=_off(value - expected)),
            say("scalar_wrong", label=label),
        )


def check_dict(label: str, got, expected: Mapping, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Check a dict of arrays key by key (extra keys are allowed; any mapping will do)."""
    if not isinstance(got, Mapping):
        raise WrongResult(say("not_dict", label=label, keys=sorted(expected), type=_type_name(got)))
    missing = [key for key in expected if key not in got]
    if missing:
        has = [str(key)[:40] for key in list(got)[:8]] + (["..."] if len(got) > 8 else [])
        raise WrongResult(
            say("missing_keys", label=label, missing=missing, has=has),
            say("missing_keys_brief", label=label, missing=missing),
        )
    for key, value in expected.items():
        check_value(f'{label}["{key}"]', got[key], value, rtol=rtol, atol=atol)


def _check_sizes(got, expected) -> None:
    if not isinstance(got, tuple) or len(got) != 3:
        raise WrongResult(
            say("sizes_tuple", type=_type_name(got) if not isinstance(got, tuple) else f"a tuple of {len(got)}"),
            say("sizes_tuple_brief"),
        )
    for label, value, want in zip(("n_x", "n_h", "n_y"), got, expected):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise WrongResult(say("size_not_int", label=label, type=_type_name(value)))
        if value != want:
            raise WrongResult(
                say("size_wrong", label=label, got=int(value), expected=int(want)), say("size_wrong_brief", label=label)
            )


def _check_forward(got, expected) -> None:
    if not isinstance(got, tuple) or len(got) != 2:
        raise WrongResult(say("pair", type=_type_name(got)))
    (A2, cache), (expected_A2, expected_cache) = got, expected
    check_dict("cache", cache, expected_cache)
    check_value("A2", A2, expected_A2)
    if A2 is not cache["A2"] and not np.array_equal(A2, cache["A2"]):
        raise WrongResult(say("a2_not_cached"))


def check_result(
    name: str, got, expected, args: tuple = (), kwargs: Mapping | None = None, fingerprints: Mapping | None = None
) -> None:
    """The one comparison: raise WrongResult unless ``got`` is what ``name`` should return.

    ``args`` and ``kwargs`` are the inputs of the call, ``fingerprints`` the results of
    classic mistakes on them (see ``diagnose``); both only serve to name the mistake.
    """
    tolerance = TOLERANCE.get(name, {})
    try:
        if name == "layer_sizes":
            _check_sizes(got, expected)
        elif name == "forward_propagation":
            _check_forward(got, expected)
        elif name == "compute_cost":
            check_value("cost", got, expected)
        elif name == "predict":
            check_value("predictions", got, expected, kind="labels")
        else:
            label = "grads" if name == "backward_propagation" else "parameters"
            check_dict(label, got, expected, **tolerance)
    except WrongResult as failure:
        mistake = diagnose(name, got, expected, args, kwargs or {}, fingerprints or {})
        if mistake is not None:
            failure.mistake, hint = mistake
            failure.hint = hint
            failure.args = (f"{failure.message}\n{say('hint')}: {hint}",)
        raise


# -- naming the mistake ----------------------------------------------------------------------------


def _close(a, b, rtol=1e-4, atol=1e-9) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        scale = float(np.max(np.abs(b))) if b.size else 0.0  # as in check_value: cancellation near zero
        return a.shape == b.shape and bool(np.all(np.isclose(a, b, rtol=rtol, atol=max(atol, rtol * scale))))
    except (TypeError, ValueError):
        return False


def _matches(got, fingerprint) -> bool:
    """Does ``got`` equal a mistake's result (a number, an array, or a tuple or dict of them)?"""
    if isinstance(fingerprint, Mapping):
        return isinstance(got, Mapping) and all(k in got and _matches(got[k], v) for k, v in fingerprint.items())
    if isinstance(fingerprint, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(fingerprint)
            and all(_matches(g, f) for g, f in zip(got, fingerprint))
        )
    if isinstance(got, (tuple, list, Mapping, str)) or got is None:
        return False
    return _close(got, fingerprint)


def _sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def _examples(name: str, args: tuple) -> int | None:
    """m, the number of examples of a call, read from its inputs."""
    try:
        if name == "compute_cost":
            return int(np.shape(args[1])[1])
        if name == "backward_propagation":
            return int(np.shape(args[2])[1])
    except (IndexError, TypeError):
        return None
    return None


def _keys(got, expected):
    """(key, got value, expected value) of the float entries of a dict result, or of a bare value."""
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return []
        return [(key, got[key], value) for key, value in expected.items() if key in got]
    return [(None, got, expected)]


def diagnose(
    name: str, got, expected, args: tuple = (), kwargs: Mapping | None = None, fingerprints: Mapping | None = None
) -> tuple[str, str] | None:
    """(mistake id, hint) when a wrong result matches a classic mistake, else None.

    Relations that hold for any input are tried first (a cost m times too large, a
    transposed or flattened gradient, a step up the gradient); then ``fingerprints``:
    the results the classic mistakes give on these inputs; then where the mistake
    must be (the part of the result that is right and the part that is not).
    """
    kwargs = kwargs or {}
    try:
        found = _relation(name, got, expected, args, kwargs)
        if found is None:
            found = next(
                ((mistake, {}) for mistake, fingerprint in (fingerprints or {}).items() if _matches(got, fingerprint)),
                None,
            )
        if found is None:
            found = _localise(name, got, expected)
    except Exception:  # noqa: BLE001 - a diagnosis is a courtesy: an odd result just gets none
        return None
    if found is None:
        return None
    mistake, fields = found
    return mistake, say(mistake, **fields)


def _relation(name, got, expected, args, kwargs):
    m = _examples(name, args)
    if name == "layer_sizes" and isinstance(got, tuple) and len(got) == 3:
        X, Y = args[0], args[1]
        if tuple(got) == (X.shape[1], expected[1], Y.shape[1]):
            return "sizes_examples", {}
        if tuple(got) == (Y.shape[0], expected[1], X.shape[0]):
            return "sizes_swapped", {}
        if got[0] == expected[0] and got[2] == expected[2]:
            return "sizes_hidden", {}
    if name == "compute_cost" and np.ndim(expected) == 0 and not isinstance(got, (str, bytes)):
        value, want = float(np.squeeze(got)), float(expected)
        if m and m > 1 and _close(value, m * want):
            return "cost_no_mean", {}
        if _close(value, -want):
            return "cost_sign", {}
        if any(value == round(want, digits) for digits in range(5)):
            return "cost_rounded", {}
    if name == "initialize_parameters" and isinstance(got, Mapping):
        weights = [got.get(k) for k in ("W1", "W2")]
        if all(isinstance(w, np.ndarray) and w.size and not w.any() for w in weights):
            return "init_zero_weights", {}
        for key in ("W1", "W2"):
            g = got.get(key)
            if (
                isinstance(g, np.ndarray)
                and g.ndim == 2
                and g.shape != expected[key].shape
                and g.shape == expected[key].shape[::-1]
            ):
                return "init_swapped_shape", {"key": key}
        if all(_close(got.get(k), 100 * np.asarray(expected[k])) for k in ("W1", "W2")):
            return "init_unscaled", {}
        if any(
            isinstance(got.get(k), np.ndarray) and np.shape(got.get(k)) == np.shape(expected[k]) and np.any(got.get(k))
            for k in ("b1", "b2")
        ):
            return "init_nonzero_bias", {}
    if name == "forward_propagation" and isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], Mapping):
        cache, (_, expected_cache) = got[1], expected
        Z1, Z2 = expected_cache["Z1"], expected_cache["Z2"]
        if _close(cache.get("A1"), _sigmoid(Z1)):
            return "forward_sigmoid_hidden", {}
        if _close(cache.get("A1"), Z1) and not _close(Z1, np.tanh(Z1)):
            return "forward_no_hidden_activation", {}
        near = [
            (float(np.max(np.abs(np.asarray(got[0], dtype=float) - candidate))), mistake)
            for candidate, mistake in ((Z2, "forward_no_output_sigmoid"), (np.tanh(Z2), "forward_tanh_output"))
            if _close(got[0], candidate)
        ]
        if near:  # both look alike where Z2 is small: the closer one
            return min(near)[1], {}
        parameters = args[1] if len(args) > 1 else {}
        for key, bias in (("Z1", "b1"), ("Z2", "b2")):
            if np.any(parameters.get(bias)) and _close(cache.get(key), expected_cache[key] - parameters[bias]):
                return "forward_no_bias", {"key": key}
    if name == "backward_propagation" and isinstance(got, Mapping):
        entries = _keys(got, expected)
        if m and m > 1 and any(_close(g, m * np.asarray(e)) and not _close(g, e) for _, g, e in entries):
            key = next(k for k, g, e in entries if _close(g, m * np.asarray(e)) and not _close(g, e))
            return "grad_no_mean", {"key": key}
        if entries and all(_close(g, -np.asarray(e)) for _, g, e in entries):
            return "grad_sign", {}
        for key, g, e in entries:
            e = np.asarray(e)
            if isinstance(g, np.ndarray) and g.shape != e.shape:
                if g.ndim == 1 and _close(g, e.ravel()):
                    return "grad_keepdims", {"key": key}
                if g.ndim == 2 and _close(g.T, e):
                    return "grad_transposed", {"key": key}
    if name == "update_parameters" and isinstance(got, Mapping) and len(args) >= 2:
        parameters, grads = args[0], args[1]
        rate = kwargs.get("learning_rate", args[2] if len(args) > 2 else 1.2)
        keys = [k for k in expected if k in got]
        if keys and all(_close(got[k], np.asarray(parameters[k]) + rate * np.asarray(grads["d" + k])) for k in keys):
            return "update_sign", {}
        if keys and all(_close(got[k], parameters[k]) for k in keys):
            return "update_no_step", {}
        if (
            keys
            and rate != 1.2
            and all(_close(got[k], np.asarray(parameters[k]) - 1.2 * np.asarray(grads["d" + k])) for k in keys)
        ):
            return "update_fixed_rate", {}
    if name == "nn_model" and isinstance(got, Mapping) and len(args) >= 3:
        W1 = got.get("W1")
        if isinstance(W1, np.ndarray) and W1.ndim == 2 and args[2] != 4 and W1.shape[0] == 4:
            return "model_fixed_hidden", {}
    if name == "predict" and isinstance(got, np.ndarray) and got.shape == np.shape(expected):
        values = got.astype(float)
        if (
            np.all((values >= 0) & (values <= 1))
            and not np.all(np.isin(values, (0.0, 1.0)))
            and np.array_equal(values > 0.5, np.asarray(expected, dtype=bool))
        ):
            return "predict_probabilities", {}
        if np.array_equal(values, 1 - np.asarray(expected, dtype=float)):
            return "predict_inverted", {}
    return None


def _localise(name, got, expected):
    if name == "backward_propagation" and isinstance(got, Mapping):
        right = {key for key, g, e in _keys(got, expected) if _close(g, e, rtol=RTOL, atol=ATOL)}
        if right == {"dW2", "db2"}:
            return "grad_in_dz1", {}
    return None


def cost_problem(compute_cost, Y, parameters) -> str | None:
    """Why ``compute_cost`` cannot serve a gradient check yet, or None when it looks right.

    Two guesses whose cost is known whatever the labels: 0.5 for every example costs
    log 2, and 0.8 on the right class (0.2 on the wrong one) costs -log 0.8.
    """
    Y = np.asarray(Y)
    guesses = (
        (np.full(Y.shape, 0.5), np.log(2), "cost_at_half"),
        (np.where(Y == 1, 0.8, 0.2), -np.log(0.8), "cost_at_guess"),
    )
    for A2, expected, key in guesses:
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cost = float(np.squeeze(compute_cost(A2, Y, parameters)))
        except NotImplementedError:
            return say("not_implemented", name="compute_cost")
        except Exception as error:  # noqa: BLE001 - any failure is the problem to report
            return f"compute_cost raised {type(error).__name__}: {error}"
        if not np.isclose(cost, expected, rtol=1e-6, atol=1e-9):
            text = say(key, cost=cost, expected=expected)
            mistake = diagnose("compute_cost", cost, expected, (A2, Y, parameters))
            return text + (f"; {mistake[1].rstrip('.。')}" if mistake else "")
    return None


# -- the visible tests ------------------------------------------------------------------------------


def _arrays(value):
    if isinstance(value, dict):
        return {key: _arrays(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_arrays(item) for item in value)
    return np.array(value) if isinstance(value, list) else value


# Expected outputs of the visible cases (the walk-through's printed values), in the form
# each function returns them.
EXPECTED = _arrays(
    {
        "layer_sizes": (5, 4, 2),
        "initialize_parameters": {
            "W1": [
                [-0.00416758, -0.00056267],
                [-0.02136196, 0.01640271],
                [-0.01793436, -0.00841747],
                [0.00502881, -0.01245288],
            ],
            "b1": [[0.0], [0.0], [0.0], [0.0]],
            "W2": [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]],
            "b2": [[0.0]],
        },
        # The walk-through prints the means of Z1, A1, Z2 and A2: -0.000499755777742,
        # -0.000496963353232, 0.000438187450959 and 0.500109546852; these are the arrays.
        "forward_propagation": (
            [[0.5002307023, 0.4998583053, 0.500239633]],
            {
                "Z1": [
                    [-0.006165861996, 0.002062604884, 0.00349620481],
                    [-0.05229879383, 0.02726334641, -0.02646868795],
                    [-0.02009991333, 0.003686916997, 0.02884555528],
                    [0.0215300737, -0.01385322413, 0.02600470982],
                ],
                "A1": [
                    [-0.00616578386, 0.002062601959, 0.003496190565],
                    [-0.05225116402, 0.02725659356, -0.02646250844],
                    [-0.02009720693, 0.003686900291, 0.02883755747],
                    [0.02152674761, -0.013852338, 0.02599884955],
                ],
                "Z2": [[0.000922809274, -0.0005667787953, 0.0009585318743]],
                "A2": [[0.5002307023, 0.4998583053, 0.500239633]],
            },
        ),
        "compute_cost": 0.6930587610394646,
        "backward_propagation": {
            "dW1": [
                [0.01018708, -0.00708701],
                [0.00873447, -0.0060768],
                [-0.00530847, 0.00369379],
                [-0.02206365, 0.01535126],
            ],
            "db1": [[-0.00069728], [-0.00060606], [0.000364], [0.00151207]],
            "dW2": [[0.00363613, 0.03153604, 0.01162914, -0.01318316]],
            "db2": [[0.06589489]],
        },
        "update_parameters": {
            "W1": [
                [-0.00643025, 0.01936718],
                [-0.02410458, 0.03978052],
                [-0.01653973, -0.02096177],
                [0.01046864, -0.05990141],
            ],
            "b1": [[-1.02420756e-06], [1.27373948e-05], [8.32996807e-07], [-3.20136836e-06]],
            "W2": [[-0.01041081, -0.04463285, 0.01758031, 0.04747113]],
            "b2": [[0.00010457]],
        },
        "nn_model": {
            "W1": [
                [-0.65848169, 1.21866811],
                [-0.76204273, 1.39377573],
                [0.5792005, -1.10397703],
                [0.76773391, -1.41477129],
            ],
            "b1": [[0.287592], [0.3511264], [-0.2431246], [-0.35772805]],
            "W2": [[-2.45566237, -3.27042274, 2.00784958, 3.36773273]],
            "b2": [[0.20459656]],
        },
        "predict": [[1, 0, 1]],
    }
)


def _show(rows) -> None:
    """Print name, yours and expected side by side."""
    yours_word, expected_word = say("yours"), say("expected")
    for label, yours, expected in rows:
        try:
            yours_text = np.array2string(np.asarray(yours), precision=8) if yours is not None else "-"
        except Exception:  # noqa: BLE001 - whatever the student returned, the test goes on
            yours_text = repr(yours)[:200]
        expected_text = np.array2string(np.asarray(expected), precision=8)
        if "\n" in yours_text or "\n" in expected_text:
            print(f"{label}\n  {yours_word}:\n{yours_text}\n  {expected_word}:\n{expected_text}")
        else:
            print(f"{label:<10} {yours_word}: {yours_text:<40} {expected_word}: {expected_text}")


def _show_dict(got, expected: Mapping) -> None:
    if isinstance(got, Mapping):
        _show((key, got.get(key), value) for key, value in expected.items())


def _check(name: str, got, args: tuple, kwargs: Mapping | None = None) -> None:
    check_result(name, got, EXPECTED[name], args, kwargs, FINGERPRINTS.get(name))


def _passed(name: str) -> None:
    print(say("passed", name=name))


def _global_names(code) -> set:
    """The global names a function's code (and the code nested in it) refers to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if hasattr(constant, "co_names"):
            names |= _global_names(constant)
    return names


def _check_helpers(name: str, target) -> None:
    """Stop with a clear message when ``target`` calls a graded function that fails its own test."""
    code = getattr(target, "__code__", None)
    if code is None:
        return
    used = _global_names(code)
    if "NotImplementedError" in used:  # still the release's placeholder: say that, not what it calls
        return
    namespace = getattr(target, "__globals__", {})
    for helper in HELPERS[name]:
        if helper not in used:
            continue
        function = namespace.get(helper)
        if function is None:
            raise HelperFails(say("helper_missing", function=name, helper=helper))
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                TESTS[helper](function)
        except Exception as error:  # noqa: BLE001 - whatever made the helper's test fail
            reason = error.message if isinstance(error, TestFailure) else f"{type(error).__name__}: {error}"
            reason = reason.splitlines()[0]
            raise HelperFails(
                say(
                    "helper_fails",
                    function=name,
                    helper=helper,
                    reason=reason if len(reason) <= 160 else reason[:157] + "...",
                )
            ) from None


def layer_sizes_test(target) -> None:
    X_assess, Y_assess = layer_sizes_test_case()
    result = call_student(target, X_assess, Y_assess)
    if isinstance(result, tuple) and len(result) == 3:
        _show(zip(("n_x", "n_h", "n_y"), result, EXPECTED["layer_sizes"]))
    _check("layer_sizes", result, layer_sizes_test_case())
    _passed("layer_sizes")


def initialize_parameters_test(target) -> None:
    n_x, n_h, n_y = initialize_parameters_test_case()
    parameters = call_student(target, n_x, n_h, n_y)
    _show_dict(parameters, EXPECTED["initialize_parameters"])
    _check("initialize_parameters", parameters, (n_x, n_h, n_y))
    _passed("initialize_parameters")


def forward_propagation_test(target) -> None:
    X_assess, parameters = forward_propagation_test_case()
    result = call_student(target, X_assess, parameters)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping):
        _, expected_cache = EXPECTED["forward_propagation"]
        means = []
        for key in ("Z1", "A1", "Z2"):
            try:
                means.append(np.mean(result[1].get(key)))
            except Exception:  # noqa: BLE001 - shown as missing; the check says why
                means.append(None)
        try:
            means.append(np.mean(result[0]))
        except Exception:  # noqa: BLE001
            means.append(None)
        expected_means = [np.mean(expected_cache[key]) for key in ("Z1", "A1", "Z2", "A2")]
        _show(zip(("mean(Z1)", "mean(A1)", "mean(Z2)", "mean(A2)"), means, expected_means))
    _check("forward_propagation", result, forward_propagation_test_case())
    _passed("forward_propagation")


def compute_cost_test(target) -> None:
    A2, Y_assess, parameters = compute_cost_test_case()
    cost = call_student(target, A2, Y_assess, parameters)
    _show([("cost", cost, EXPECTED["compute_cost"])])
    _check("compute_cost", cost, compute_cost_test_case())
    _passed("compute_cost")


def backward_propagation_test(target) -> None:
    parameters, cache, X_assess, Y_assess = backward_propagation_test_case()
    grads = call_student(target, parameters, cache, X_assess, Y_assess)
    _show_dict(grads, EXPECTED["backward_propagation"])
    _check("backward_propagation", grads, backward_propagation_test_case())
    _passed("backward_propagation")


def update_parameters_test(target) -> None:
    parameters, grads = update_parameters_test_case()
    result = call_student(target, parameters, grads)
    _show_dict(result, EXPECTED["update_parameters"])
    _check("update_parameters", result, update_parameters_test_case())
    _passed("update_parameters")


def nn_model_test(target) -> None:
    _check_helpers("nn_model", target)
    X_assess, Y_assess = nn_model_test_case()
    kwargs = {"num_iterations": 10000, "print_cost": False}
    parameters = call_student(target, X_assess, Y_assess, 4, **kwargs)
    _show_dict(parameters, EXPECTED["nn_model"])
    _check("nn_model", parameters, (*nn_model_test_case(), 4), kwargs)
    _passed("nn_model")


def predict_test(target) -> None:
    _check_helpers("predict", target)
    parameters, X_assess = predict_test_case()
    predictions = call_student(target, parameters, X_assess)
    _show([("predictions", predictions, EXPECTED["predict"])])
    _check("predict", predictions, predict_test_case())
    print(f"predictions mean = {np.mean(predictions):.12g}")
    _passed("predict")


TESTS = {
    "layer_sizes": layer_sizes_test,
    "initialize_parameters": initialize_parameters_test,
    "forward_propagation": forward_propagation_test,
    "compute_cost": compute_cost_test,
    "backward_propagation": backward_propagation_test,
    "update_parameters": update_parameters_test,
    "nn_model": nn_model_test,
    "predict": predict_test,
}

# BEGIN FINGERPRINTS (generated by `python -m tools.mistakes`; do not edit)
# fmt: off
FINGERPRINTS = _arrays({'initialize_parameters': {'init_order': {'W1': [[-0.01793435585, -0.008417473657],
                                                 [0.005028814172, -0.01245288087],
                                                 [-0.01057952219, -0.009090076149],
                                                 [0.005514540445, 0.02292208013]],
                                          'W2': [[-0.004167578474,
                                                  -0.0005626682723,
                                                  -0.02136196096,
                                                  0.01640270808]]},
                           'init_uniform': {'W1': [[0.004359949021, 0.0002592623183],
                                                   [0.005496624779, 0.004353223926],
                                                   [0.004203678021, 0.00330334821],
                                                   [0.00204648634, 0.006192709664]],
                                            'W2': [[0.002996546737,
                                                    0.002668272751,
                                                    0.006211338328,
                                                    0.005291420943]]}},
 'compute_cost': {'cost_one_term': 0.2308952957, 'cost_swapped_logs': 0.6932357744},
 'backward_propagation': {'grad_derivative_a1': {'dW1': [[-3.71661944e-05, 2.624011301e-05],
                                                         [-0.0002640291978, 8.785260293e-05],
                                                         [6.438207092e-05, -6.404313784e-05],
                                                         [-0.0002698749481, 2.129181473e-05]],
                                                 'db1': [[-3.846853698e-05],
                                                         [-0.0002866651289],
                                                         [6.412933859e-05],
                                                         [-0.0003021854786]],
                                                 'dW2': [[0.003636132544,
                                                          0.03153604026,
                                                          0.01162913654,
                                                          -0.01318316133]],
                                                 'db2': [[0.06589489354]]},
                          'grad_derivative_z1': {'dW1': [[0.01018708295, -0.007087014251],
                                                         [0.008734443517, -0.006076780025],
                                                         [-0.00530846595, 0.003693794227],
                                                         [-0.02206364297, 0.01535126394]],
                                                 'db1': [[-0.0006972764748],
                                                         [-0.0006060796544],
                                                         [0.0003639956432],
                                                         [0.001512070667]],
                                                 'dW2': [[0.003636132544,
                                                          0.03153604026,
                                                          0.01162913654,
                                                          -0.01318316133]],
                                                 'db2': [[0.06589489354]]},
                          'grad_no_tanh_derivative': {'dW1': [[0.01018736969, -0.007087191684],
                                                              [0.008753138658, -0.006089419877],
                                                              [-0.005310132942, 0.003694175353],
                                                              [-0.02207242891, 0.01535543907]],
                                                      'db1': [[-0.0006971363441],
                                                              [-0.0005989898539],
                                                              [0.0003633800262],
                                                              [0.001510448021]],
                                                      'dW2': [[0.003636132544,
                                                               0.03153604026,
                                                               0.01162913654,
                                                               -0.01318316133]],
                                                      'db2': [[0.06589489354]]},
                          'grad_sigmoid_derivative': {'dW1': [[-3.745292712e-05, 2.641754151e-05],
                                                              [-0.0002826928792, 0.0001004715007],
                                                              [6.604857823e-05, -6.442435063e-05],
                                                              [-0.0002610915875, 1.711737308e-05]],
                                                      'db1': [[-3.86086634e-05],
                                                              [-0.0002937377382],
                                                              [6.474486128e-05],
                                                              [-0.0003005635358]],
                                                      'dW2': [[0.003636132544,
                                                               0.03153604026,
                                                               0.01162913654,
                                                               -0.01318316133]],
                                                      'db2': [[0.06589489354]]}},
 'nn_model': {'model_untrained': {'W1': [[-0.004167578474, -0.0005626682723],
                                         [-0.02136196096, 0.01640270808],
                                         [-0.01793435585, -0.008417473657],
                                         [0.005028814172, -0.01245288087]],
                                  'b1': [[0.0], [0.0], [0.0], [0.0]],
                                  'W2': [[-0.01057952219, -0.009090076149, 0.005514540445, 0.02292208013]],
                                  'b2': [[0.0]]}}})
# fmt: on
# END FINGERPRINTS
