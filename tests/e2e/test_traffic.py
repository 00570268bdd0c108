"""What a kernel sends is counted: a grading process's memory stays flat whatever a kernel does.

zmq holds every part of a multipart message until its last part comes, so a kernel that sends
30 MB parts and never the last one made a grading worker grow by gigabytes. The grader's
relay (autograder/sandbox/relay.py) counts every byte against a per-message and a
per-submission budget and cuts the kernel off past either.
"""

import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder import ASSIGNMENT, nbgrader_cli
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

from ..conftest import POINTS

# Raw ZMTP frames written straight onto every connection the kernel has with the grader (libzmq itself sends
# nothing of a message before its last part): frames of {size} bytes flagged "more" (and long), {parts} of them.
FLOOD = """import os, socket, threading, time
frame = bytes([{flags}]) + ({size}).to_bytes(8, "big") + b"x" * {size}
connections = []
for name in os.listdir("/proc/self/fd"):
    try:
        if os.readlink(f"/proc/self/fd/{{name}}").startswith("socket:"):
            connection = socket.socket(fileno=os.dup(int(name)))
            if connection.family == socket.AF_UNIX and connection.type == socket.SOCK_STREAM:
                connection.getpeername()  # connected, not listening
                connections.append(connection)
    except OSError:
        pass
def flood(connection):
    try:
        connection.setblocking(True)
        for _ in range({parts}):
            connection.sendall(frame)
    except OSError:
        pass
for connection in connections:
    threading.Thread(target=flood, args=(connection,), daemon=True).start()
time.sleep(20)
"""
ENDLESS = FLOOD.format(flags=0x03, size=30_000_000, parts=70)  # one message that never ends: 2.1 GB per channel
# One signed message of 30 MB on the wire (under its budget) that parses into ten million dicts.
AMPLIFIED = """kernel = get_ipython().kernel
payload = b'{"name":"stdout","text":"x","a":[' + b'{},' * 10_000_000 + b'{}]}'
kernel.session.send(kernel.iopub_socket, "stream", content=payload, parent=kernel.get_parent(), ident=b"stream")
import time
time.sleep(20)
"""
# The same message, sent only when the grader interrupts the cell (a timeout), while it waits for the kernel.
AMPLIFIED_ON_INTERRUPT = """kernel = get_ipython().kernel
payload = b'{"name":"stdout","text":"x","a":[' + b'{},' * 10_000_000 + b'{}]}'
parent, stop = kernel.get_parent(), []
def on_interrupt(*args, **kwargs):
    kernel.session.send(kernel.iopub_socket, "stream", content=payload, parent=parent, ident=b"stream")
    stop.append(1)
kernel.control_handlers["interrupt_request"] = on_interrupt
while not stop:
    pass
"""
LAST_PART = FLOOD.format(flags=0x02, size=31_000_000, parts=1)  # one whole message of 31 MB, under its budget


def rss_of_children(parent: int) -> dict[int, int]:
    """Resident bytes of each process whose parent is ``parent``."""
    found = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip() or 0) == parent and "VmRSS" in fields:
            found[int(status.parent.name)] = int(fields["VmRSS"].split()[0]) * 1024
    return found


@pytest.mark.parametrize(
    "attack",
    [
        "one endless message",
        "a message of ten million values",
        "such a message when interrupted",
        "a whole message from each of nine cells",
    ],
)
def test_a_kernel_that_floods_the_grader_is_cut_off_and_the_workers_memory_stays_flat(tmp_path, attack):
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    flooder = fill_answers(release, answers)
    cells = {
        "one endless message": [ENDLESS],
        "a message of ten million values": [AMPLIFIED],
        "such a message when interrupted": [AMPLIFIED_ON_INTERRUPT],
    }.get(attack, [LAST_PART] * 9)
    for number, code in enumerate(cells):
        flooder.cells.insert(3 + number, nbformat.v4.new_code_cell(code, id=f"flood-{number}"))
    write_submission(flooder, course, "flooder", ASSIGNMENT)
    write_submission(fill_answers(release, answers), course, "honest", ASSIGNMENT)
    grading = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--workers", "1", "--no-feedback"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=nbgrader_cli.environment(),
    )
    peak = {"bytes": 0}

    def sample():
        while grading.poll() is None:
            peak["bytes"] = max([peak["bytes"], *rss_of_children(grading.pid).values()])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, _ = grading.communicate(timeout=900)
    sampler.join()
    assert grading.returncode == 0, output
    # A worker (numpy, nbconvert, zmq) is about 300 MB; without the budget this attack held 2.1 GB or more.
    assert peak["bytes"] < 900 * 1024 * 1024, f"a worker reached {peak['bytes'] / 2**20:.0f} MB"
    from nbgrader.api import Gradebook

    total = sum(POINTS.values())
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {s.student_id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    notebook = (course / "autograded" / "flooder" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    if attack != "a whole message from each of nine cells":  # the flood's cell is cut off; its functions are right
        assert scores == {"flooder": total, "honest": total}
        assert "sent the grader messages it could not read" in notebook or "stopped: this cell ran longer" in notebook
    else:  # 9 x 31 MB is more than the submission may send: what comes after is not run
        assert scores == {"flooder": 0, "honest": total}
        assert "sent the grader more than 256 MB" in notebook
