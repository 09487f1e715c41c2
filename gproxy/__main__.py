"""Console-script and ``python -m gproxy`` entry: monkey-patch before anything else."""

from gevent import monkey

monkey.patch_all()

import sys


def main() -> None:
    from gproxy.cli import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
