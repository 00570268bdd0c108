"""The fingerprints of the classic mistakes on the visible cases: test_fingerprints.json, data the tests read.

    python -m tools.fingerprints write   # (re)write test_fingerprints.json
    python -m tools.fingerprints check   # fail if it is not what the catalogue gives

The catalogue (autograder/grading/fingerprints.py) holds the mistaken code; students must
not see it, since it would give the right code away. The visible tests only need what
that code returns on their own inputs, so those results are stored as numbers (10
significant digits; a tuple as {"tuple": [...]}) and CI checks that they are current.
"""

from __future__ import annotations

import sys

import numpy as np

from tools.paths import ROOT, write_or_check

FINGERPRINTS = ROOT / "test_fingerprints.json"


def _plain(value):
    """Lists, dicts and floats of 10 significant digits; a tuple as {"tuple": [...]}, since JSON has none."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return {"tuple": [_plain(item) for item in value]}
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.10g}")
    return value


def fingerprints() -> dict:
    from autograder import GRADED_FUNCTIONS
    from autograder.grading.cases import visible_case
    from autograder.grading.fingerprints import fingerprints as catalogue
    from autograder.grading.reference import load_reference

    reference = load_reference()

    def call(name, args, kwargs):
        return reference[name](*args, **kwargs)

    found = {}
    for name in GRADED_FUNCTIONS:
        case = visible_case(name)
        if case is None:  # nn_model: its visible call, as public_tests makes it
            import testCases

            args, kwargs = (*testCases.nn_model_test_case(), 4), {"num_iterations": 10000, "print_cost": False}
        else:
            args, kwargs = case.args, case.kwargs
        prints = catalogue(name, args, kwargs, call)
        if prints:
            found[name] = {mistake: _plain(value) for mistake, value in sorted(prints.items())}
    return found


def text() -> str:
    import json

    return json.dumps(fingerprints(), indent=1) + "\n"


def write() -> None:
    FINGERPRINTS.write_text(text(), encoding="utf-8")
    print(f"wrote {FINGERPRINTS.name}")


def check() -> list[str]:
    stored = FINGERPRINTS.read_text(encoding="utf-8") if FINGERPRINTS.is_file() else ""
    if stored != text():
        return [
            f"{FINGERPRINTS.name}, the fingerprints of the classic mistakes, is out of date "
            "(run: make release, which writes it and the release's copies)"
        ]
    return []


def main(argv: list[str] | None = None) -> int:
    return write_or_check("tools.fingerprints", __doc__, write, check, argv)


if __name__ == "__main__":
    sys.exit(main())
