"""``grade`` starts its zygote before its own imports, and only when the run will use it."""

import pytest

from autograder.sandbox.launchers import ZygoteServer


@pytest.mark.parametrize(
    "argv, started",
    [
        (["grade", "--course", "c"], True),
        (["grade", "--workers", "2", "--no-sandbox"], True),  # kernels still come from the zygote
        (["grade", "--cold-kernels"], False),
        (["grade", "--scheduler", "tls://h:8786"], False),
        (["grade", "--scheduler=tls://h:8786"], False),
        (["grade", "--help"], False),
        (["watch", "--course", "c"], False),  # a service opens its session at the first submission
        (["bench"], False),
        ([], False),
    ],
)
def test_the_zygote_starts_early_only_for_a_grading_run_that_uses_it(monkeypatch, argv, started):
    made = []
    monkeypatch.setattr(ZygoteServer, "__init__", lambda self, scratch: made.append(scratch))
    monkeypatch.setattr(ZygoteServer, "close", lambda self: made.append("closed"))
    ZygoteServer.start_early(argv)
    early = ZygoteServer.take_early()
    assert (early is not None) == started and len(made) == int(started)
    assert ZygoteServer.take_early() is None  # taken once: a second session starts its own
    ZygoteServer.take_early_and_close()  # at exit, with nothing left to close
    assert "closed" not in made


def test_an_early_zygote_nobody_took_is_closed_at_exit(monkeypatch):
    closed = []
    monkeypatch.setattr(ZygoteServer, "__init__", lambda self, scratch: None)
    monkeypatch.setattr(ZygoteServer, "close", lambda self: closed.append(True))
    ZygoteServer.start_early(["grade"])
    ZygoteServer.take_early_and_close()
    assert closed == [True] and ZygoteServer.take_early() is None
