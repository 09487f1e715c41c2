"""Console-script and ``python -m gproxy`` entry: monkey-patch before anything else."""

import gevent.events

# gproxy uses no gevent plugins: skip the scan of every installed package's entry points
# that patch_all() triggers (about 0.45 s of start-up here); subscribers still get events.
gevent.events.notify_and_call_entry_points = gevent.events.notify

from gevent import monkey

monkey.patch_all()

import sys


def main() -> None:
    from gproxy.cli import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
