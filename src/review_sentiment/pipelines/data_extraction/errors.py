"""The one error type of data_extraction: raw reviews that cannot be used as configured."""


class ReviewDataError(ValueError):
    """Raw reviews that cannot be used: the message names the file, the column or field, and the
    setting to change, in one line (`kedro run` prints just that line: `review_sentiment.cli`)."""
