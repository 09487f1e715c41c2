#!/usr/bin/env python3
"""gproxy entry point from a checkout: ``python gproxy.py -f haproxy.cfg``.

Monkey-patches (in gproxy.__main__) before anything else is imported, then runs the CLI;
the ``gproxy`` console script calls the same function.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gproxy.__main__ import main

if __name__ == "__main__":
    main()
