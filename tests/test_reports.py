"""Reports: pass rates and statistics of a known class, charts written, student text escaped."""

from autograder.judge import FunctionResult, SubmissionResult
from autograder.reports import class_statistics, pass_rates, write_reports

NAMES = ["layer_sizes", "initialize_parameters", "forward_propagation", "compute_cost",
         "backward_propagation", "update_parameters", "nn_model", "predict"]
POINTS = [5, 10, 15, 10, 20, 10, 20, 10]


def submission(student, failing=(), status="ok", seconds=1.0):
    functions = [FunctionResult(name, points, 0 if name in failing else points,
                                "failed" if name in failing else "passed", "wrong" if name in failing else "")
                 for name, points in zip(NAMES, POINTS)]
    return SubmissionResult(student, status, functions, seconds)


CLASS = [submission("a"), submission("b", failing=("backward_propagation",)),
         submission("c", failing=("backward_propagation", "predict"), seconds=9.0),
         submission("<script>alert(1)</script>", failing=tuple(NAMES), status="malformed <b>notebook</b>")]


def test_pass_rates_count_passing_submissions_per_function():
    rates = pass_rates(CLASS)
    assert rates["backward_propagation"] == 0.25
    assert rates["predict"] == 0.5
    assert rates["layer_sizes"] == 0.75


def test_class_statistics():
    stats = class_statistics(CLASS)
    assert stats["submissions"] == 4 and stats["full marks"] == 1 and stats["incomplete"] == 1
    assert stats["mean"] == (100 + 80 + 70 + 0) / 4 and stats["median"] == 75 and stats["min"] == 0


def test_write_reports_makes_charts_and_an_escaped_page(tmp_path):
    page = write_reports(tmp_path / "reports", CLASS, tmp_path / "feedback", "planar_data_classification")
    assert (tmp_path / "reports" / "score_histogram.png").stat().st_size > 1000
    assert (tmp_path / "reports" / "pass_rates.png").stat().st_size > 1000
    text = page.read_text()
    assert "<tr><td>backward_propagation</td><td>25 %</td></tr>" in text
    assert "<tr><th>mean</th><td>62.5</td></tr>" in text
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "malformed &lt;b&gt;notebook&lt;/b&gt;" in text
    assert "Incomplete or failing submissions (3)" in text
    assert text.index("<td>c</td><td>9.0 s</td>") < text.index("<td>a</td><td>1.0 s</td>")  # slowest first
