"""The benchmark runs both graders on one class and checks that they agree."""

import re
import subprocess
import sys


def bench(tmp_path, *options: str) -> subprocess.CompletedProcess:
    """``python -m autograder bench`` with these options, building its classes in ``tmp_path``."""
    command = [sys.executable, "-m", "autograder", "bench", *options, "--dir", str(tmp_path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_bench_times_both_graders_and_checks_their_scores_agree(tmp_path):
    result = bench(tmp_path, "--students", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "scores agree for all 2 students" in result.stdout
    for name in ("stock nbgrader autograde", "python -m autograder grade"):
        assert re.search(rf"{name}\s+[\d.]+ s\s+[\d.]+ submissions/s", result.stdout), result.stdout
    assert re.search(r"speed-up\s+[\d.]+ x", result.stdout)
    assert re.search(r"start-up [\d.]+ s: imports [\d.]+, .*gradebook [\d.]+, workers ready [\d.]+", result.stdout)
    assert re.search(r"fixed cost \(all but grading, interpreter and exit included\) [\d.]+ s", result.stdout)
    assert re.search(r"peak memory: grader process \d+ MB, with all its processes \d+ MB", result.stdout)


def test_bench_scaling_prints_time_rate_and_memory_per_class_size(tmp_path):
    result = bench(tmp_path, "--scaling", "--sizes", "2", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    for size in (2, 4):
        assert re.search(rf"\s{size} submissions\s+[\d.]+ s\s+[\d.]+ submissions/s\s+grading", result.stdout)
    assert "marginal cost" in result.stdout and "linear if close to 1" in result.stdout
    assert "flat if close to 1" in result.stdout


def test_bench_floor_prints_grade_against_the_same_work_in_plain_processes(tmp_path):
    result = bench(tmp_path, "--floor", "--students", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"floor \(plain processes\)\s+[\d.]+ s\s+[\d.]+ submissions/s", result.stdout)
    assert "totals differ" not in result.stdout  # the floor judges as grade does
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"grading at \d+ % of the floor \([\d.]+ submissions/s against [\d.]+\)", last), last


def test_bench_watch_prints_the_latency_one_at_a_time_and_a_burst_against_its_floor(tmp_path, capsys):
    from autograder.simulated.bench import watch

    assert watch(tmp_path, single=2, burst=3) == 0
    out = capsys.readouterr().out
    assert re.search(r"one at a time \(2\)\s+median\s+[\d.]+ s\s+95th percentile\s+[\d.]+ s.*target: median", out), out
    burst = re.search(r"a burst of 3\s+median\s+[\d.]+ s\s+95th percentile\s+[\d.]+ s.*target: 95th <= ([\d.]+) s", out)
    assert burst and float(burst.group(1)) > 2.0, out  # the floor's time for the same 3 submissions, plus 2 s


def test_bench_submission_prints_the_cpu_of_one_submission_on_a_warm_worker(tmp_path):
    result = bench(tmp_path, "--submission", "--students", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    figures = r"CPU per submission ([\d.]+) s \(worker ([\d.]+), kernel ([\d.]+), the rest -?[\d.]+\), wall [\d.]+ s"
    for kind in ("without a page ", "with its page  "):
        for number in (1, 2):
            found = re.search(rf"{kind} round {number}: {figures}", result.stdout)
            assert found, result.stdout
            assert float(found.group(3)) > 0  # the kernels' own count, from their sandboxes
