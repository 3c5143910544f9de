"""Memory a finished node freed goes back to the operating system before the next node runs:
the Python process's free pages (glibc's `malloc_trim`) and, after a node that used Spark, the
driver JVM's heap (a full collection). A million reviews' run depends on it to stay under its
memory budget (bench/scale.py)."""

from __future__ import annotations

import gc
import os
import sys
import weakref

import pytest

from review_sentiment import memory
from review_sentiment.hooks import MemoryHooks
from review_sentiment.spark import ProjectSpark

PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def jvm_collections(session) -> int:
    """How many collections the driver JVM's collectors have run so far."""
    management = session.sparkContext._jvm.java.lang.management.ManagementFactory
    return sum(bean.getCollectionCount() for bean in management.getGarbageCollectorMXBeans())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim, /proc")
def test_freed_texts_scattered_among_live_ones_go_back_to_the_system():
    # Texts of 1 KB come from malloc's heap; keeping every 16th leaves the freed ones in holes
    # that glibc does not give back on its own (only the top of its heap).
    texts = [str(i).rjust(1000, "x") for i in range(300_000)]
    kept = texts[::16]
    del texts
    before = resident_bytes()

    assert memory.release_python_memory() is True

    assert before - resident_bytes() > 100 * 2**20
    assert len(kept) == 18_750  # the live texts are untouched


def test_a_node_that_used_spark_has_the_driver_collect_its_heap_before_the_next(spark):
    hooks = MemoryHooks()
    table = spark.range(10)
    collections = jvm_collections(spark)

    hooks.after_node_run(inputs={"output_manifest@spark": table, "params:x": {}})
    hooks.before_node_run()

    assert jvm_collections(spark) > collections


def test_a_node_without_spark_leaves_the_driver_alone(spark):
    hooks = MemoryHooks()
    collections = jvm_collections(spark)

    hooks.after_node_run(inputs={"train_reviews": [1, 2], "spark_but_no_session": "text"})
    hooks.before_node_run()

    assert jvm_collections(spark) == collections


def test_the_projects_spark_object_counts_as_using_spark(spark):
    hooks = MemoryHooks()
    collections = jvm_collections(spark)

    hooks.after_node_run(inputs={"spark": ProjectSpark()})
    hooks.before_node_run()

    assert jvm_collections(spark) > collections


class Records(list):
    """A node output that can be watched with a weak reference (a plain list cannot)."""


def test_an_output_no_node_reads_is_not_held_while_the_rest_of_the_run_goes_on():
    from kedro.framework.hooks.manager import _create_hook_manager
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Node, Pipeline
    from kedro.runner import SequentialRunner

    seen: dict[str, bool] = {}
    watched: list = []

    def label(texts):
        records = Records({"source": text} for text in texts)  # the labeling's `labeled_set`
        watched.append(weakref.ref(records))
        return records, len(records)

    def train(count):
        gc.collect()
        seen["records alive while training"] = watched[0]() is not None
        seen["count"] = count
        return count * 2

    pipeline = Pipeline(
        [
            Node(label, "texts", ["labeled_set", "count"], name="label"),
            Node(train, "count", "model", name="train"),
        ]
    )
    catalog = DataCatalog({"texts": MemoryDataset(["good", "bad"])})
    hooks = _create_hook_manager()
    hooks.register(MemoryHooks())

    SequentialRunner().run(pipeline, catalog, hooks)

    assert seen == {"records alive while training": False, "count": 2}


def test_a_local_sessions_frame_reaches_pandas_through_files_with_every_row_and_type(spark):
    from review_sentiment.spark import to_pandas

    rows = [
        (f"manifest-{i % 3}", i, f"text {i} ünïcode", None if i % 5 == 0 else "positive")
        for i in range(2_000)
    ]
    frame = spark.createDataFrame(rows, "file string, line long, source string, class_name string")

    table = to_pandas(frame).sort_values("line", ignore_index=True)

    expected = frame.toPandas().sort_values("line", ignore_index=True)
    assert table.equals(expected)
    assert table.dtypes.to_dict() == expected.dtypes.to_dict()
