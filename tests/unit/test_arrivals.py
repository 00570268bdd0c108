"""What wakes feedback on submit: an event in the inbound folder, else the interval's end."""

import threading
import time

from autograder.watch import Arrivals


def test_a_new_folder_wakes_the_service_long_before_the_interval_ends(tmp_path):
    arrivals = Arrivals(tmp_path)
    assert arrivals.why_not == ""  # inotify, here
    try:
        threading.Timer(0.3, lambda: (tmp_path / "ada+planar+2026").mkdir()).start()
        began = time.monotonic()
        arrivals.wait(60, lambda: False)
        assert time.monotonic() - began < 30  # woken by the folder, not by the 60 s interval
        began = time.monotonic()
        arrivals.wait(60, lambda: False)  # settling: its files come next, so the next look is soon
        assert time.monotonic() - began < 30
    finally:
        arrivals.close()


def test_without_events_the_service_looks_every_interval_and_stops_when_asked(tmp_path):
    arrivals = Arrivals(tmp_path / "not-there-yet")
    assert "FileNotFoundError" in arrivals.why_not
    began = time.monotonic()
    arrivals.wait(0.3, lambda: False)
    assert time.monotonic() - began >= 0.3
    began = time.monotonic()
    arrivals.wait(60, lambda: True)  # stopping: no wait at all
    assert time.monotonic() - began < 30
    arrivals.close()
