"""A reader's error in one line of ours, pandas' and Spark's alike."""

from review_sentiment.reviews.errors import one_line


def test_a_spark_error_keeps_its_message_without_the_jvm_stack_trace():
    error = RuntimeError("[PATH_NOT_FOUND] Path does not exist:\n  /data/x.csv.\nJVM stacktrace:\norg.apache...")

    assert one_line(error) == "[PATH_NOT_FOUND] Path does not exist: /data/x.csv."


def test_an_error_without_a_message_is_named_by_its_type():
    assert one_line(EOFError()) == "EOFError"
