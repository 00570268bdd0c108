import sys

from .sandbox.launchers import ZygoteServer

ZygoteServer.start_early(sys.argv[1:])  # before the grader's own imports (``ZygoteServer.start_early``)

from .cli import main  # noqa: E402

sys.exit(main())
