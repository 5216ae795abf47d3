"""``python -m cge``: the command line."""

from cge.cli import main

main()
