"""The benchmark runs both graders on one class and checks that they agree."""

import re
import subprocess
import sys


def test_bench_times_both_graders_and_checks_their_scores_agree(tmp_path):
    result = subprocess.run([sys.executable, "-m", "autograder", "bench", "--students", "2", "--dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "scores agree for all 2 students" in result.stdout
    for name in ("stock nbgrader autograde", "python -m autograder grade"):
        assert re.search(rf"{name}\s+[\d.]+ s\s+[\d.]+ submissions/s", result.stdout), result.stdout
    assert re.search(r"speed-up\s+[\d.]+ x", result.stdout)
