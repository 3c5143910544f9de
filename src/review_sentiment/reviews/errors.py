"""The one error type of reading reviews: raw reviews that cannot be used as configured, and how
its messages are written."""

# Where a user overrides data_extraction's settings, named in error messages.
LOCAL_PARAMETERS = "conf/local/parameters_data_extraction.yml"


class ReviewDataError(ValueError):
    """Raw reviews that cannot be used: the message names the file, the column or field, and the
    setting to change, in one line (`kedro run` prints just that line: `review_sentiment.cli`)."""


def one_line(exc: BaseException) -> str:
    """The message of the error a reader (pandas, Spark) raised, for one line of ours: whitespace
    collapsed, a JVM stack trace (Spark's errors carry one) and all past 500 characters cut."""
    text = str(exc).split("JVM stacktrace:")[0]
    return " ".join(text.split())[:500] or type(exc).__name__
