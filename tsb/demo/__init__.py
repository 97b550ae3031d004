"""The browser demo: ``python -m tsb.demo`` serves a page on localhost (:mod:`tsb.demo.server`)."""

from tsb.demo.server import DemoServer, Limits, make_server

__all__ = ["DemoServer", "Limits", "make_server"]
