"""Fixtures for the serving tests."""

from __future__ import annotations

import uuid

import pytest

from tests.serving import MARKER, kill_processes_with_env


@pytest.fixture
def marked(monkeypatch):
    """A unique environment value every process started by this test inherits, so the test can
    find them all afterwards, whatever their process group; what is left at the end is killed."""
    value = uuid.uuid4().hex
    monkeypatch.setenv(MARKER, value)
    yield value
    kill_processes_with_env(MARKER, value)
