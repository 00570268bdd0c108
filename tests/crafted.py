"""A crafted class: one student per attack, fault, malformed input and correct idiom.

Each entry: the answers changed from the instructor's solution, cells added, what
is done to the notebook or the folder, and the score each function must get.
``{COURSE}``, ``{PORT}`` and ``{BYSTANDER}`` in added code are filled in by the
fixture (the course's absolute path, a loopback server's port, the pid of a process
that must survive), as a well-informed attacker would know them.
"""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path

import nbformat

from autograder import ASSIGNMENT, GRADED_FUNCTIONS
from autograder.markup import grade_id
from autograder.simulated.synthetic import fill_answers, write_submission

from .conftest import POINTS
from .idioms import IDIOMS

WRONG_COST = "    cost = 0.5  # wrong"


def scores(**zeroed):
    """Full points except for the functions named (set to 0)."""
    return {name: 0 if name in zeroed else points for name, points in POINTS.items()}


ALL_ZERO = dict.fromkeys(POINTS, 0)


def _replace_cost(solutions):
    return solutions["compute_cost"].replace("    cost = -np.sum(logprobs) / m", WRONG_COST)


# name -> dict(answers=callable(solutions)->changes, cells=[code added after the imports],
#              notebook=callable(nb)->nb, files=callable(folder), expected=scores, status=substring)
STUDENTS = {
    # -- correct work, also the control group between the others
    "pass-perfect-1": dict(expected=scores()),
    "pass-perfect-2": dict(expected=scores()),
    "pass-student-added-helper-cell": dict(
        cells=["def _tanh_prime(A):\n    return 1 - A ** 2\n"],
        answers=lambda s: {
            "backward_propagation": s["backward_propagation"].replace("(1 - A1 ** 2)", "_tanh_prime(A1)")
        },
        expected=scores(),
    ),
    # -- tampering with wrong compute_cost: the wrong function must stay at 0
    "tamper-allclose": dict(
        cells=[
            "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, **k: np.ones_like(a, bool)\n"
            "np.testing.assert_allclose = lambda *a, **k: None\n"
        ],
        answers=lambda s: {"compute_cost": _replace_cost(s)},
        expected=scores(compute_cost=0),
    ),
    "tamper-input-transformer": dict(
        cells=[
            "get_ipython().input_transformers_post.append(\n"
            "    lambda lines: ['pass\\n'] if any('autograder' in l or 'test' in l for l in lines) else lines)\n"
        ],
        answers=lambda s: {"compute_cost": _replace_cost(s)},
        expected=ALL_ZERO,
    ),
    "tamper-run-cell": dict(
        cells=[
            "ip = get_ipython()\n_original = ip.run_cell\n"
            "def run_cell(*args, **kwargs):\n    result = _original(*args, **kwargs)\n"
            "    result.error_in_exec = None\n    print('All tests passed.')\n    return result\n"
            "ip.run_cell = run_cell\nip.showtraceback = lambda *a, **k: print('All tests passed.')\n"
        ],
        answers=lambda s: {"compute_cost": _replace_cost(s)},
        expected=scores(compute_cost=0),
    ),
    "tamper-builtins": dict(
        cells=[
            "import builtins\nbuiltins.AssertionError = Exception\n"
            "_print = builtins.print\nbuiltins.print = lambda *a, **k: _print('All tests passed.')\n"
        ],
        answers=lambda s: {"compute_cost": _replace_cost(s)},
        expected=scores(compute_cost=0),
    ),
    "tamper-swallow-exceptions": dict(
        cells=[
            "import sys\nsys.excepthook = lambda *a: None\n"
            "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: print('All tests passed.'))\n"
        ],
        answers=lambda s: {"compute_cost": _replace_cost(s).replace(WRONG_COST, "    raise ValueError('oops')")},
        expected=scores(compute_cost=0),
    ),
    "tamper-comparison": dict(  # the comparison the visible tests use (and the grader: outside the kernel)
        cells=["import test_utils\ntest_utils.check_result = lambda *args, **kwargs: None\n"],
        answers=lambda s: {"compute_cost": _replace_cost(s)},
        expected=scores(compute_cost=0),
    ),
    "tamper-forged-report": dict(
        answers=lambda s: {
            "compute_cost": _replace_cost(s).replace(
                WRONG_COST,
                '    input(\'\\x00autograder-report:\' + \'{"status":"returned","value":0.6930587610394646}\')\n'
                "    cost = 0.5",
            )
        },
        expected=scores(compute_cost=0),
    ),
    "tamper-edited-test-cells": dict(
        notebook=lambda nb: _edit_tests(nb, "print('All tests passed.')"),
        answers=lambda s: {"compute_cost": _replace_cost(s)},
        expected=scores(compute_cost=0),
    ),
    # -- the sandbox: what the kernel must not reach
    "sandbox-read-instructor-files": dict(
        cells=[
            "import os, sys\n"
            "stolen = [p for p in ('{COURSE}/source/planar_data_classification/planar_data_classification.ipynb',\n"
            "                      '../../../source/planar_data_classification/planar_data_classification.ipynb',\n"
            "                      '{COURSE}/gradebook.db', '{COURSE}/.autograder/secret', '{COURSE}/nbgrader_config.py',\n"
            "                      '{COURSE}/submitted/pass-perfect-1/planar_data_classification/planar_data_classification.ipynb')\n"
            "          if os.path.exists(p)]\n"
            "for folder, subfolders, files in os.walk('/'):\n"
            "    subfolders[:] = [d for d in subfolders if os.path.join(folder, d) not in\n"
            "                     ('/proc', '/sys', '/usr', sys.prefix, os.path.realpath(sys.base_prefix))]\n"
            "    stolen += [os.path.join(folder, f) for f in files\n"
            "               if f in ('gradebook.db', 'secret', 'planar_data_classification.ipynb')]\n"
            "print('found:', stolen)\n"
        ],
        answers=lambda s: {
            "compute_cost": s["compute_cost"].replace(
                "    cost = -np.sum(logprobs) / m", "    cost = -np.sum(logprobs) / m if not stolen else 1e9"
            )
        },
        expected=scores(),
    ),
    "sandbox-write-gradebook": dict(
        cells=[
            "import os\nfor path in ('{COURSE}/gradebook.db', '{COURSE}/submitted/pass-perfect-2/planar_data_classification/planar_data_classification.ipynb'):\n"
            "    try:\n        open(path, 'w').write('garbage')\n    except OSError as error:\n        print('blocked:', error)\n"
            "for path in ('/usr/evil', '/evil', '{COURSE}/evil'):\n"
            "    try:\n        open(path, 'w').write('x')\n    except OSError as error:\n        print('blocked:', error)\n"
        ],
        expected=scores(),
    ),
    "sandbox-network": dict(
        cells=[
            "import socket\nfor host in ('127.0.0.1', 'localhost'):\n    try:\n"
            "        socket.create_connection((host, {PORT}), timeout=2).sendall(b'stolen')\n"
            "    except OSError as error:\n        print('blocked:', error)\n"
        ],
        expected=scores(),
    ),
    "sandbox-memory-hog": dict(
        answers=lambda s: {
            "update_parameters": s["update_parameters"].replace(
                "    ### END CODE HERE ###",
                "    ### END CODE HERE ###\n    hog = np.ones((512, 1024, 1024))  # 4 GiB",
                1,
            )
        },
        expected=scores(update_parameters=0),
        status="memory limit in update_parameters",
    ),
    "sandbox-fork-bomb": dict(
        answers=lambda s: {
            "predict": s["predict"].replace(
                "    predictions = A2 > 0.5",
                "    import subprocess\n    children = [subprocess.Popen(['sleep', '1000']) for _ in range(500)]\n"
                "    predictions = A2 > 0.5",
            )
        },
        expected=scores(predict=0),
    ),
    "sandbox-outlive": dict(
        cells=["import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 777123'], start_new_session=True)\n"],
        expected=scores(),
    ),
    "sandbox-fill-disk": dict(
        answers=lambda s: {
            "layer_sizes": s["layer_sizes"].replace(
                "    n_h = 4",
                "    n_h = 4\n    with open('big.bin', 'wb') as f:\n"
                "        for _ in range(2048):\n            f.write(b'0' * 1024 * 1024)",
            )
        },
        expected=scores(layer_sizes=0),
    ),
    # -- kernels are forked from a warm process: nothing one student does reaches another
    "isolation-writer": dict(
        cells=["import builtins, numpy\nnumpy.leaked_by_writer = True\nbuiltins.leaked_by_writer = True\n"],
        expected=scores(),
    ),
    "isolation-reader": dict(
        answers=lambda s: {
            "compute_cost": s["compute_cost"].replace(
                "    cost = -np.sum(logprobs) / m",
                "    import builtins\n"
                "    leaked = hasattr(np, 'leaked_by_writer') or hasattr(builtins, 'leaked_by_writer')\n"
                "    cost = -np.sum(logprobs) / m if not leaked else 1e9",
            )
        },
        expected=scores(),
    ),
    # -- faults: each costs only its own function
    "fault-crash-in-forward": dict(
        answers=lambda s: {
            "forward_propagation": s["forward_propagation"].replace(
                "    A2 = sigmoid(Z2)", "    import os\n    os._exit(3)"
            )
        },
        expected=scores(forward_propagation=0),
        status="kernel died in forward_propagation",
    ),
    "fault-loop-in-layer-sizes": dict(
        answers=lambda s: {"layer_sizes": s["layer_sizes"].replace("    n_h = 4", "    while True:\n        pass")},
        expected=scores(layer_sizes=0),
        status="timeout in layer_sizes",
    ),
    "fault-top-level-loop-and-crash": dict(
        cells=["while True:\n    pass\n", "import os\nos._exit(1)\n"], expected=scores(), status="timeout in cell"
    ),
    "fault-huge-output": dict(cells=["print('x' * 5_000_000)\n"], expected=scores()),
    "fault-bug-in-helper": dict(
        answers=lambda s: {"forward_propagation": s["forward_propagation"].replace("np.tanh(Z1)", "Z1")},
        expected=scores(forward_propagation=0),
    ),
    # -- test cells deleted, moved, renamed: graded with the instructor's tests
    "cells-deleted-tests": dict(notebook=lambda nb: _drop_tests(nb), expected=scores()),
    "cells-reordered-tests": dict(notebook=lambda nb: _move_tests_to_end(nb), expected=scores()),
    "cells-renamed-tests": dict(notebook=lambda nb: _rename_tests(nb), expected=scores()),
    # -- the folder: malformed, missing, misnamed, extra files
    "file-empty": dict(raw=b"", expected=ALL_ZERO, status="malformed notebook: the file is empty"),
    "file-binary": dict(raw=bytes(range(256)) * 10, expected=ALL_ZERO, status="malformed notebook: not a text file"),
    "file-nbformat-3": dict(
        raw=json.dumps({"nbformat": 3, "nbformat_minor": 0, "cells": [], "metadata": {}}).encode(),
        expected=ALL_ZERO,
        status="malformed notebook: nbformat 3",
    ),
    "file-invalid-json": dict(raw=b'{"cells": [', expected=ALL_ZERO, status="malformed notebook: invalid JSON"),
    "file-missing": dict(name=None, expected=ALL_ZERO, status="missing notebook"),
    "file-misnamed": dict(name="my_work.ipynb", expected=scores(), status="misnamed notebook my_work.ipynb"),
    "file-extra-files": dict(
        extra={"planar_utils.py": "def sigmoid(z):\n    return 0.5\n", "notes.txt": "hello"}, expected=scores()
    ),
    # -- inputs aimed at the grader itself
    "guard-huge-broadcast": dict(  # tiny arrays the reference would broadcast to 40000 x 40000
        answers=lambda s: {
            "predict": s["predict"].replace(
                "    A2, cache = forward_propagation(X, parameters)",
                "    huge = {'W1': np.ones((40000, 1)), 'b1': np.ones((1, 40000)), 'W2': np.ones((1, 40000)),\n"
                "            'b2': np.ones((1, 1))}\n"
                "    A2, cache = forward_propagation(X[:1, :1], huge)",
            )
        },
        expected=scores(predict=0),
        message=("predict", "called forward_propagation wrongly"),
    ),
    "guard-uint8-matrices": dict(  # integer matrices the reference would multiply for minutes
        answers=lambda s: {
            "nn_model": s["nn_model"].replace(
                "    parameters = initialize_parameters(n_x, n_h, n_y)",
                "    big = np.ones((2000, 2000), dtype='uint8')\n"
                "    forward_propagation(big, {k: big for k in ('W1', 'b1', 'W2', 'b2')})\n"
                "    parameters = initialize_parameters(n_x, n_h, n_y)",
            )
        },
        expected=scores(nn_model=0),
        message=("nn_model", "called forward_propagation wrongly"),
    ),
    "bad-nested-report": dict(  # a forged report nested 100 000 deep
        answers=lambda s: {
            "compute_cost": s["compute_cost"].replace(
                "    cost = -np.sum(logprobs) / m",
                "    cost = -np.sum(logprobs) / m\n    input('\\x00autograder-report:' + '[' * 100000 + ']' * 100000)",
            )
        },
        expected=scores(compute_cost=0),
    ),
    "bad-deep-notebook": dict(
        raw=b'{"cells": [], "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b', "nbformat": 4, "nbformat_minor": 5}',
        expected=ALL_ZERO,
        status="malformed notebook: nested too deeply",
    ),
    "bad-rich-markup": dict(notebook=lambda nb: _with_key(nb, "[/]"), expected=ALL_ZERO, status="malformed notebook"),
    "links-hardlink-to-secret": dict(
        cells=[
            "try:\n    print('stolen:', open('secret.txt').read())\nexcept OSError as error:\n"
            "    print('blocked:', error)\n"
        ],
        setup=lambda folder, course: os.link(course / ".autograder" / "secret", folder / "secret.txt"),
        expected=scores(),
        status="files not read: secret.txt (hard link)",
    ),
    "links-symlink-to-source": dict(
        setup=lambda folder, course: os.symlink(
            course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", folder / "solutions.ipynb.txt"
        ),
        expected=scores(),
        status="solutions.ipynb.txt (symbolic link)",
    ),
    "links-fifo-timestamp": dict(
        setup=lambda folder, course: os.mkfifo(folder / "timestamp.txt"),
        expected=scores(),
        status="timestamp.txt (FIFO)",
    ),
    "links-device": dict(
        setup=lambda folder, course: os.mknod(folder / "data.npy", stat.S_IFCHR | 0o666, os.makedev(1, 5)),
        expected=scores(),
        status="data.npy (device)",
        root_only=True,
    ),
    "links-folder-is-a-symlink": dict(folder_link_to_source=True, expected=None, skipped="is a symbolic link"),
    # -- outputs: bounded, and inert wherever they are shown
    # Each attack on its own, each far below the CPU a cell may use even on a slow, busy machine:
    # what is asserted is what the grader keeps, never how fast the kernel displays it.
    "unsafe-outputs": dict(
        cells=[
            "from IPython.display import display, HTML, SVG, Javascript, Markdown\n"
            'display(HTML(\'<script>alert("xss-html")</script><img src=x onerror=alert("xss-img")>\'))\n'
            'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg"><script>alert("xss-svg")</script></svg>\'))\n'
            "display(Javascript('alert(\"xss-js\")'))\n"
            "display(Markdown('<script>alert(\"xss-md\")</script>'))\n"
        ],
        notebook=lambda nb: _with_unsafe_cells(nb),
        expected=scores(),
    ),
    "unsafe-huge-displays": dict(  # more than the notebook's whole output allowance, in rich outputs
        cells=[
            "from IPython.display import display, HTML\nfor _ in range(4):\n    display(HTML('<b>' + 'x' * 3_000_000 + '</b>'))\n"
        ],
        expected=scores(),
    ),
    "unsafe-long-print": dict(cells=["print('y' * 200_000)\n"], expected=scores()),
    "disk-kernel-runtime": dict(  # the kernel's own socket folder is no way onto the host's disk
        cells=[
            "import os\nfrom ipykernel.kernelapp import IPKernelApp\n"
            "runtime = os.path.dirname(IPKernelApp.instance().abs_connection_file)\n"
            "try:\n    with open(os.path.join(runtime, 'fill.bin'), 'wb') as handle:\n"
            "        for _ in range(2048):\n            handle.write(b'0' * 2**20)\n"
            "except OSError as error:\n    print('blocked:', error)\n"
        ],
        expected=scores(),
    ),
    # -- the kernel boundary: nothing a kernel sends or holds reaches the grader, the machine or a neighbour
    "attack-zygote-sockets": dict(  # every socket it holds that is not its own kernel's, written {"pid": N} into
        cells=[
            "import json, os, socket\n"
            "def netns(s):\n    return s.getsockopt(socket.SOL_SOCKET, 71, 8)  # SO_NETNS_COOKIE\n"
            "mine = netns(socket.socket(socket.AF_UNIX))\n"
            "foreign = []\n"
            "for fd in range(3, 1024):\n"
            "    try:\n        target = os.readlink(f'/proc/self/fd/{fd}')\n    except OSError:\n        continue\n"
            "    if not target.startswith('socket:'):\n        continue\n"
            "    s = socket.socket(fileno=os.dup(fd))\n"
            "    name = s.getsockname() if s.family == socket.AF_UNIX else ''\n"
            "    own = netns(s) == mine or str(name).startswith('/run/autograder-')  # the grader's connections\n"
            "    s.close()\n"
            "    if not own:\n"
            "        foreign.append(fd)\n"
            "        for pid in ({BYSTANDER}, -1, 0):\n"
            "            try:\n                os.write(fd, (json.dumps({'pid': pid}) + '\\n').encode())\n"
            "            except OSError:\n                pass\n"
            "print('foreign sockets:', len(foreign))\n"
        ],
        expected=scores(),
    ),
    "attack-rate-overflow": dict(  # a stand-in argument no float holds: refused, the student's error
        answers=lambda s: {
            "nn_model": s["nn_model"].replace(
                "parameters = update_parameters(parameters, grads)",
                "parameters = update_parameters(parameters, grads, learning_rate=10**400)",
            )
        },
        expected=scores(nn_model=0),
        message=("nn_model", "called update_parameters wrongly"),
    ),
    "attack-forged-message": dict(  # a message signed with another key, mid-probe
        answers=lambda s: {
            "compute_cost": s["compute_cost"].replace(
                "    cost = -np.sum(logprobs) / m",
                "    from jupyter_client.session import Session\n"
                "    kernel = get_ipython().kernel\n"
                "    Session(key=b'not the key').send(kernel.iopub_socket, 'stream', {'name': 'stdout', 'text': 'x'},\n"
                "                                     parent=kernel.get_parent())\n"
                "    cost = -np.sum(logprobs) / m",
            )
        },
        expected=scores(compute_cost=0),
        message=("compute_cost", "could not read"),
    ),
    "attack-call-not-a-call": dict(  # a helper call that decodes to a list
        answers=lambda s: {
            "nn_model": s["nn_model"].replace(
                "    return parameters", "    return input('\\x00autograder-call:' + '[1, 2]')"
            )
        },
        expected=scores(nn_model=0),
    ),
    "attack-huge-report": dict(  # a forged report of 19 MB
        answers=lambda s: {
            "compute_cost": s["compute_cost"].replace(
                "    cost = -np.sum(logprobs) / m",
                "    import json\n"
                "    input('\\x00autograder-report:' + json.dumps({'status': 'raised', 'ename': 'E' * 10**6,\n"
                "                                                   'evalue': 'x' * 19_000_000}))\n"
                "    cost = -np.sum(logprobs) / m",
            )
        },
        expected=scores(compute_cost=0),
    ),
    "attack-many-keys": dict(
        answers=lambda s: {
            "update_parameters": s["update_parameters"].replace(
                "    return parameters",
                "    return {**parameters, **{f'k{i}': i for i in range(50_000)}}",
            )
        },
        expected=scores(update_parameters=0),
    ),
    "attack-named-leaks": dict(  # names made of a hidden case's values, in every channel a name can take
        answers=lambda s: {
            "forward_propagation": s["forward_propagation"].replace(
                "    A2 = sigmoid(Z2)",
                "    A2 = sigmoid(Z2)\n"
                "    if X.shape[1] != 3:\n"
                "        raise type(('L' + 'EAK%d') % int(abs(X[0, 0]) * 1e6), (Exception,), {})('x')",
            ),
            "update_parameters": s["update_parameters"].replace(
                "    return parameters",
                "    if parameters['W1'].shape != (4, 2):\n"
                "        return {('L' + 'EAK%d') % int(abs(parameters['W1'][0, 0]) * 1e6): 1.0}\n"
                "    return parameters",
            ),
            "predict": s["predict"].replace(
                "    return predictions",
                "    if X.shape[1] != 3:\n"
                "        return type(('L' + 'EAK%d') % int(abs(X[0, 0]) * 1e6), (), {})()\n"
                "    return predictions",
            ),
            "backward_propagation": s["backward_propagation"].replace(
                "    return grads",
                "    if X.shape[1] != 3:\n"
                "        return dict(grads, dW1=np.zeros((int(abs(X[0, 0]) * 1e6) % 997 + 11, 1)))\n"
                "    return grads",
            ),
        },
        expected=scores(forward_propagation=0, update_parameters=0, predict=0, backward_propagation=0),
    ),
    "attack-svg-attachment": dict(notebook=lambda nb: _with_svg_attachment(nb), expected=scores()),
    # pages a renderer cannot finish: TeX environments parsed in quadratic time, a huge code cell for the highlighter
    "attack-slow-markdown": dict(
        notebook=lambda nb: _with_cell(nb, nbformat.v4.new_markdown_cell("\\begin{}" * 1_000_000, id="slow-md")),
        expected=scores(),
    ),
    "attack-huge-code-cell": dict(
        notebook=lambda nb: _with_cell(nb, nbformat.v4.new_code_cell("x = 1\n" * 300_000, id="huge-code")),
        expected=scores(),
    ),
    "attack-stand-in-flood": dict(  # the grader's work on its behalf is the submission's to pay
        answers=lambda s: {
            "nn_model": s["nn_model"].replace(
                "    parameters = initialize_parameters(n_x, n_h, n_y)",
                "    parameters = initialize_parameters(n_x, n_h, n_y)\n"
                "    for _ in range(1_000_000):\n        forward_propagation(X, parameters)",
            )
        },
        expected=scores(nn_model=0),
    ),
    "attack-surrogates": dict(  # text JSON carries and UTF-8 cannot write, in every channel a kernel has
        cells=[
            # ipykernel's own packer cannot send them; one that writes JSON's escapes can
            "import json, sys\n"
            "get_ipython().kernel.session.pack = lambda o: json.dumps(o, default=str).encode()\n"
            "print('out \\ud800')\nprint('err \\udfff', file=sys.stderr)\nsys.stdout.flush(); sys.stderr.flush()\n"
            "raise ValueError('\\ud800')\n"
        ],
        answers=lambda s: {
            "layer_sizes": "def layer_sizes(X, Y):\n    raise ValueError('bad \\ud800 value')\n",
            "forward_propagation": s["forward_propagation"].replace(
                "    A2 = sigmoid(Z2)",
                "    A2 = sigmoid(Z2)\n    if X.shape[1] != 3:\n        raise ValueError('hidden \\udfff')",
            ),
            "update_parameters": s["update_parameters"].replace(
                "    return parameters",
                "    return {'\\ud800': 1.0} if parameters['W1'].shape != (4, 2) else parameters",
            ),
        },
        expected=scores(layer_sizes=0, forward_propagation=0, update_parameters=0),
    ),
    "attack-socket-link": dict(  # its sockets' paths made links to a socket of the host's, for the grader to follow
        # (before: about 400 connections from the grader, as root, in 2 s)
        cells=[
            "import os, time\n"
            "from ipykernel.kernelapp import IPKernelApp\n"
            "runtime = os.path.dirname(IPKernelApp.instance().abs_connection_file)\n"
            "swapped = 0\n"
            "for name in sorted(os.listdir(runtime)):\n"
            "    if name.startswith('ipc-'):\n"
            "        os.unlink(os.path.join(runtime, name))\n"
            "        os.symlink('{HOST_SOCKET}', os.path.join(runtime, name))\n"
            "        swapped += 1\n"
            "IPKernelApp.instance().heartbeat.socket.close(linger=0)\n"
            "get_ipython().kernel.control_stream.socket.close(linger=0)  # the grader's end reconnects\n"
            "time.sleep(2)\n"
            "print('swapped', swapped)\n"
        ],
        expected=scores(),
    ),
    "attack-hidden-leak": dict(  # keeps a hidden case's inputs, for a later visible case's message to show
        answers=lambda s: {
            "compute_cost": s["compute_cost"].replace(
                "    m = Y.shape[1]",
                "    global kept\n    kept = globals().get('kept', []) + [A2.round(6).tolist()]\n    m = Y.shape[1]",
            ),
            "layer_sizes": "def layer_sizes(X, Y):\n    raise ValueError('kept ' + repr(globals().get('kept', [])))\n",
            "predict": "def predict(parameters, X):\n    raise ValueError('kept ' + repr(globals().get('kept', [])))\n",
        },
        expected=scores(layer_sizes=0, predict=0),
    ),
    "attack-error-flood": dict(  # error outputs past every allowance, cheap to send
        cells=[
            "k = get_ipython().kernel\n"
            "for _ in range(20_000):\n"
            "    k.session.send(k.iopub_socket, 'error', {'ename': 'E', 'evalue': '', 'traceback': []},\n"
            "                   parent=k.get_parent('shell'), ident=b'error')\n"
        ],
        expected=scores(),
    ),
    "attack-outlive": dict(  # clear the parent-death signal, leave a thread and a process running
        cells=[
            "import ctypes, subprocess, threading, time\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "print('clear pdeathsig', libc.prctl(1, 0, 0, 0, 0), ctypes.get_errno())\n"
            "print('io_uring_setup', libc.syscall(425, 8, ctypes.create_string_buffer(120)), ctypes.get_errno())\n"
            "threading.Thread(target=time.sleep, args=(778899,)).start()\n"
            "subprocess.Popen(['sh', '-c', 'sleep 778899'], start_new_session=True)\n"
        ],
        expected=scores(),
    ),
    # -- classic mistakes: named in the feedback, on the visible case and on hidden ones
    "mistake-no-mean": dict(
        answers=lambda s: {"compute_cost": s["compute_cost"].replace("-np.sum(logprobs) / m", "-np.sum(logprobs)")},
        expected=scores(compute_cost=0),
        message=("compute_cost", "the visible case: cost is 2.079176283, expected 0.693058761"),
    ),
    "mistake-tanh-derivative": dict(
        answers=lambda s: {"backward_propagation": s["backward_propagation"].replace(" * (1 - A1 ** 2)", "")},
        expected=scores(backward_propagation=0),
        message=("backward_propagation", "Hint: tanh's derivative is missing"),
    ),
    "mistake-probabilities": dict(
        answers=lambda s: {"predict": s["predict"].replace("predictions = A2 > 0.5", "predictions = A2")},
        expected=scores(predict=0),
        message=("predict", "Hint: these are probabilities, not labels"),
    ),
    "mistake-fixed-rate": dict(  # right on the visible case (its rate is the default): only hidden cases see it
        answers=lambda s: {"update_parameters": s["update_parameters"].replace("- learning_rate *", "- 1.2 *")},
        expected=scores(update_parameters=0),
        message=("update_parameters", "hidden case 2 (n_x="),
    ),
    # -- student ids
    "José": dict(expected=scores()),
    "=2+5": dict(expected=scores()),
    "alice\n": dict(expected=None, skipped="not a valid student id"),
}

# -- correct code in other idioms: full marks, end to end
for _idiom, _answers in IDIOMS.items():
    STUDENTS[f"fair-{_idiom}"] = dict(answers=lambda s, a=_answers: dict(a), expected=scores())
STUDENTS["fair-float-labels"] = dict(
    answers=lambda s: {"predict": s["predict"].replace("predictions = A2 > 0.5", "predictions = np.round(A2)")},
    expected=scores(),
)
if os.geteuid() != 0:  # creating a device file needs root; CI runs as root
    del STUDENTS["links-device"]


# Memory held by a submission's processes together (graded rootless in tests/e2e/test_rootless.py, where no control
# group sums them): the first call of predict starts three children that hold 1.5 GiB each at once, for a few
# seconds, then predict answers correctly. Each child is well under the 2 GiB address space of one process.
HOARD_IN_CHILDREN = (
    "    import subprocess, sys, time\n"
    "    if not getattr(sys, 'hoarded', False):\n"
    "        sys.hoarded = True\n"
    "        hold = \"import time; block = b'x' * (1536 << 20); print('held', flush=True); time.sleep(30)\"\n"
    "        children = [subprocess.Popen([sys.executable, '-c', hold], stdout=subprocess.PIPE) for _ in range(3)]\n"
    "        print('children holding 1.5 GiB:', sum(child.stdout.readline() == b'held\\n' for child in children))\n"
    "        time.sleep(3)\n"
)

# The other ways past one process's address space, each tried once: new processes (fork, posix_spawn), System V
# segments, semaphore sets and message queues, memfd files, empty files by the hundred thousand in /tmp; and threads,
# which share the address space (at most one of three can hold its 1.5 GiB). One line printed per attempt.
HOARD_ELSEWHERE = r"""
import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
def tried(name, result):
    print(name, result if result in (-1, 0) else "made", ctypes.get_errno() if result == -1 else 0)
for name, start in (("fork", os.fork), ("posix_spawn", lambda: os.posix_spawn("/bin/true", ["true"], {}))):
    try:
        pid = start()
        if pid == 0:
            os._exit(0)
        tried(name, pid)
    except OSError as error:
        print(name, -1, error.errno)
tried("shmget", libc.shmget(0, 1 << 30, 0o1600))
tried("semget", libc.semget(0, 1000, 0o1600))
tried("msgget", libc.msgget(0, 0o1600))
tried("memfd_create", libc.memfd_create(b"hoard", 0))
files = 0
try:
    while files < 100_000:  # empty, so no size= counts them: about 1.3 KB of the Linux kernel's memory each
        open(f"/tmp/{files:0>200}", "w").close()
        files += 1
except OSError:
    pass
print("files", files)
held = []
def hold():
    try:
        held.append(b"x" * (1536 << 20))
    except MemoryError:
        pass
threads = [threading.Thread(target=hold) for _ in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("threads", len(held))
held.clear()
"""


def _tests(nb):
    return [c for c in nb.cells if (grade_id(c) or "").startswith("test_")]


def _drop_tests(nb):
    nb.cells = [c for c in nb.cells if c not in _tests(nb)]
    return nb


def _move_tests_to_end(nb):
    tests = _tests(nb)
    nb.cells = [c for c in nb.cells if c not in tests] + tests[::-1]
    return nb


def _with_unsafe_cells(nb):
    nb.cells.insert(
        2,
        nbformat.v4.new_markdown_cell(
            '<script>alert("xss-cell")</script> [click](javascript:alert("xss-link")) '
            '$\\href{javascript:alert("xss-tex")}{x}$ [escaped](javascript\\:alert("xss-backslash")) '
            '![beacon](https://example.invalid/beacon.png) <a href="jav&#x09;ascript:alert(1)">tab</a> '
            '<img src="x" onerror="alert(1)"> [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
            id="unsafe-markdown",
        ),
    )
    raw = nbformat.v4.new_raw_cell('<script>alert("xss-raw")</script>', id="unsafe-raw")
    raw.metadata["format"] = "text/html"
    nb.cells.insert(3, raw)
    return nb


SVG = (
    "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjxzY3JpcHQ+YWxlcnQoMSk8L3NjcmlwdD48L3N2Zz4="  # <svg><script>
)


def _with_svg_attachment(nb):
    cell = nbformat.v4.new_markdown_cell("My drawing: ![boundary](attachment:boundary.svg)", id="svg-drawing")
    cell.attachments = {"boundary.svg": {"image/svg+xml": SVG}}
    nb.cells.insert(2, cell)
    return nb


def _with_cell(nb, cell):
    nb.cells.insert(2, cell)
    return nb


def _with_key(nb, key):
    nb[key] = "x"
    return nb


def _rename_tests(nb):
    for cell in _tests(nb):
        cell.metadata.nbgrader["grade_id"] = "mine_" + cell.metadata.nbgrader["grade_id"]
        cell.id = "mine-" + cell.id
    return nb


def _edit_tests(nb, source):
    for cell in _tests(nb):
        cell.source = source
    return nb


def build(
    course: Path, release: nbformat.NotebookNode, solutions: dict, port: int, bystander: int = 1, host_socket: str = ""
) -> None:
    """Write every crafted student's submission into ``course/submitted``."""
    for student, spec in STUDENTS.items():
        folder = course / "submitted" / student / ASSIGNMENT
        if spec.get("folder_link_to_source"):
            folder.parent.mkdir(parents=True)
            os.symlink(course / "source" / ASSIGNMENT, folder)
            continue
        if "raw" in spec:
            folder.mkdir(parents=True)
            (folder / f"{ASSIGNMENT}.ipynb").write_bytes(spec["raw"])
            continue
        answers = dict(solutions)
        answers.update(spec.get("answers", lambda s: {})(solutions))
        notebook = fill_answers(release, answers)
        for offset, code in enumerate(spec.get("cells", [])):
            code = (
                code.replace("{COURSE}", str(course))
                .replace("{PORT}", str(port))
                .replace("{BYSTANDER}", str(bystander))
                .replace("{HOST_SOCKET}", host_socket)
            )
            notebook.cells.insert(3 + offset, nbformat.v4.new_code_cell(code, id=f"added-{offset}"))
        for cell in notebook.cells:  # answers may hold placeholders too
            cell.source = cell.source.replace("{COURSE}", str(course)).replace("{PORT}", str(port))
        notebook = spec.get("notebook", lambda nb: nb)(copy.deepcopy(notebook))
        if spec.get("name", ...) is None:
            folder.mkdir(parents=True)
            (folder / "README.txt").write_text("forgot the notebook")
            continue
        path = write_submission(notebook, course, student, ASSIGNMENT)
        if spec.get("name"):
            path.rename(path.with_name(spec["name"]))
        for name, text in spec.get("extra", {}).items():
            (folder / name).write_text(text)
        if "setup" in spec:
            spec["setup"](folder, course)


def graded_students() -> list[str]:
    return sorted(s for s, spec in STUDENTS.items() if spec["expected"] is not None)


def expected_total(student: str) -> float:
    return sum(STUDENTS[student]["expected"].values())


assert all(spec["expected"] is None or set(spec["expected"]) == set(GRADED_FUNCTIONS) for spec in STUDENTS.values())
