"""The progress helper: a start line, periodic lines from its timer thread while a step runs,
and how long it took, on the caller's logger."""

from __future__ import annotations

import logging
import time

import pytest

from review_sentiment.progress import format_seconds, step

LOGGER = logging.getLogger("tests.progress")


def _messages(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER.name]


def test_a_step_slower_than_the_period_logs_where_it_is(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER.name)

    with step("label-issue search", logger=LOGGER, every=0.05) as searching:
        searching.update("fold 2/5")
        time.sleep(0.3)

    messages = _messages(caplog)
    assert messages[0] == "label-issue search …"
    periodic = [m for m in messages if m.startswith("label-issue search: fold 2/5, ")]
    assert len(periodic) >= 2, messages
    assert periodic[0].endswith(" s")
    assert messages[-1].startswith("label-issue search: done in ")


def test_a_step_faster_than_the_period_logs_only_start_and_end(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER.name)

    with step("registering review-sentiment", logger=LOGGER, every=1.0):
        pass

    messages = _messages(caplog)
    assert len(messages) == 2, messages
    assert messages[0] == "registering review-sentiment …"
    assert messages[1].startswith("registering review-sentiment: done in 0.")


def test_periodic_lines_stop_when_the_step_ends(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER.name)

    with step("waiting", logger=LOGGER, every=0.05):
        time.sleep(0.12)
    logged = len(_messages(caplog))
    time.sleep(0.2)

    assert len(_messages(caplog)) == logged
    assert any(m.startswith("waiting: still running, ") for m in _messages(caplog))


def test_a_failing_step_says_how_long_it_ran_and_the_error_goes_on(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER.name)

    with pytest.raises(TimeoutError, match="no /ping"):
        with step("starting the scoring server", logger=LOGGER, every=1.0):
            raise TimeoutError("no /ping")

    last = [r for r in caplog.records if r.name == LOGGER.name][-1]
    assert last.levelno == logging.WARNING
    assert last.getMessage().startswith("starting the scoring server: failed after ")
    assert not any("done in" in m for m in _messages(caplog))


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.04, "0.0 s"), (1.94, "1.9 s"), (31.4, "31 s"), (119.4, "119 s"), (125, "2 min 5 s")],
)
def test_seconds_are_shown_with_tenths_only_where_they_matter(seconds, shown):
    assert format_seconds(seconds) == shown
