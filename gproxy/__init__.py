"""gproxy: an HAProxy-compatible TCP/HTTP load balancer in Python (gevent)."""

__version__ = "0.1.0"
