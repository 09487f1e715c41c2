"""Packaging: the ``gproxy`` console script, its dependencies, the man pages."""

import glob

from setuptools import find_packages, setup

setup(
    name="gproxy",
    version="0.1.0",
    description="An HAProxy-compatible TCP/HTTP load balancer in Python (gevent)",
    packages=find_packages(include=["gproxy", "gproxy.*"]),
    python_requires=">=3.11",
    install_requires=[
        "gevent>=24",
        "docopt-ng>=0.9",
        "prometheus-client>=0.19",
        "cryptography>=41",
        "httptools>=0.6",
    ],
    extras_require={
        # pymysql: a pure-Python MySQL client for the MariaDB integration tests
        "test": ["pytest>=8", "pytest-timeout>=2", "pymysql>=1.1", "ruff>=0.4"],
    },
    entry_points={"console_scripts": ["gproxy=gproxy.__main__:main"]},
    data_files=[("share/man/man1", glob.glob("man/*.1")), ("share/man/man5", glob.glob("man/*.5"))],
)
