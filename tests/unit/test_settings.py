"""Settings: one place for the defaults, and the sandbox's limits follow from the time limits."""

from pathlib import Path

from autograder.settings import CPU_MARGIN_SECONDS, Limits, Settings, sandbox_limits


def test_the_sandbox_limits_follow_the_time_limits_unless_given():
    default = Settings(Path("."), "a", "sqlite://")
    assert default.sandbox == sandbox_limits(Limits())
    assert default.sandbox.cpu_seconds == Limits().submission_timeout + CPU_MARGIN_SECONDS
    short = Settings(Path("."), "a", "sqlite://", limits=Limits(submission_timeout=30))
    assert short.sandbox.cpu_seconds == 30 + CPU_MARGIN_SECONDS
    assert Settings(Path("."), "a", "sqlite://", sandbox=None).sandbox is None
    given = sandbox_limits(Limits(), memory_mb=512)
    assert Settings(Path("."), "a", "sqlite://", sandbox=given).sandbox is given
