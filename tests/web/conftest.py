"""Web tests share the fixtures of tests/webclient.py (loaded by tests/conftest.py)."""

from tests.webclient import bearer, browser_login

__all__ = ["bearer", "browser_login"]
