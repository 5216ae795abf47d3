"""``python -m cge``: the command line.  SIGINT and SIGTERM are handled from the first line (while
the command line loads, they end it with exit 130 or 143 and no traceback)."""

import signal
import sys


def _early(signum, frame):
    sys.stderr.write(f"interrupted ({signal.Signals(signum).name}); nothing was written\n")
    sys.exit(128 + signum)


signal.signal(signal.SIGINT, _early)
signal.signal(signal.SIGTERM, _early)

from cge.cli import main  # noqa: E402

main()
