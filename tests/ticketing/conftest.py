"""Ticketing fixtures: the application with a small rail line, on both databases."""

from __future__ import annotations

from datetime import date

import pytest

from tests.ticketing.helpers import Line, build_line
from ticketline.app import Application

TOMORROW = date(2026, 11, 23)


@pytest.fixture
async def line(application: Application) -> Line:
    return await build_line(application.ticketing, TOMORROW)
