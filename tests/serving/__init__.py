"""Shared by the registry and serving tests: a tiny labeled review set, a real bigram model fitted
on it, and an MLflow tracking store + registry confined to a temporary directory."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import Pipeline

from review_sentiment.registry import Registration, as_text_model, register_and_promote
from tests import mlflow_store

TRAIN = [
    ("great product, I love it", "positive"),
    ("excellent quality and works great", "positive"),
    ("love it, highly recommend", "positive"),
    ("perfect fit, very happy", "positive"),
    ("fantastic value, works perfectly", "positive"),
    ("I am very happy with this purchase", "positive"),
    ("great sound and excellent battery", "positive"),
    ("highly recommend, love the design", "positive"),
    ("terrible quality, broke in a day", "negative"),
    ("awful, a complete waste of money", "negative"),
    ("stopped working after a week, very disappointed", "negative"),
    ("broke immediately, I want a refund", "negative"),
    ("poor quality and terrible support", "negative"),
    ("disappointed, it arrived broken", "negative"),
    ("waste of money, awful smell", "negative"),
    ("terrible fit, returned it for a refund", "negative"),
    ("it is okay, nothing special", "neutral"),
    ("average product, does the job", "neutral"),
    ("fine for the price, as expected", "neutral"),
    ("okay quality, average sound", "neutral"),
    ("nothing special but it works as expected", "neutral"),
    ("an average case, fine", "neutral"),
    ("it is fine, just okay", "neutral"),
    ("does the job, nothing more, average", "neutral"),
]
TEST = [
    ("love it, great quality", "positive"),
    ("excellent, highly recommend", "positive"),
    ("very happy, works perfectly", "positive"),
    ("fantastic and great value", "positive"),
    ("terrible, broke after a day", "negative"),
    ("awful waste, I want a refund", "negative"),
    ("very disappointed, stopped working", "negative"),
    ("poor and broken", "negative"),
    ("okay, nothing special", "neutral"),
    ("average, does the job", "neutral"),
    ("fine, as expected", "neutral"),
    ("just okay, average", "neutral"),
]
TRAIN_TEXTS, TRAIN_LABELS = (list(column) for column in zip(*TRAIN, strict=True))
TEST_TEXTS, TEST_LABELS = (list(column) for column in zip(*TEST, strict=True))

# One review per class that every model fitted on all of TRAIN labels correctly.
PROBE_TEXTS = ["I love it, great value", "broke in a week, terrible", "it is okay, average"]
PROBE_LABELS = ["positive", "negative", "neutral"]


def fit_text_model(texts: list[str], labels: list[str]) -> Pipeline:
    """Bigram counts + SGDClassifier, fitted step by step as the training pipeline does."""
    vectorizer = CountVectorizer(ngram_range=(1, 2)).fit(texts)
    classifier = SGDClassifier(random_state=0).fit(vectorizer.transform(texts), labels)
    return as_text_model(("vectorizer", vectorizer), ("classifier", classifier))


@contextmanager
def local_mlflow(root: Path) -> Iterator[str]:
    """MLflow tracking and registry in `root/mlruns.db`, artifacts under `root`, and an experiment
    there; yields its id. No other test is affected (see `mlflow_store`)."""
    with mlflow_store(root / "mlruns.db"):
        # Its own artifact location: the default experiment would write ./mlruns into the repo.
        yield mlflow.create_experiment(f"tests-{root.name}", artifact_location=root.as_uri())


def register(model: Pipeline, model_name: str, experiment_id: str) -> Registration:
    """`register_and_promote` in a run of its own, scored on TEST."""
    with mlflow.start_run(experiment_id=experiment_id):
        return register_and_promote(
            model,
            model_name=model_name,
            test_texts=TEST_TEXTS,
            test_labels=TEST_LABELS,
            example_texts=TRAIN_TEXTS[:3],
        )


def registered_champion(root: Path, model_name: str = "review-sentiment") -> tuple[str, str]:
    """A model fitted on TRAIN registered as champion in a registry under `root`; returns the
    alias URI to serve and the tracking URI to resolve it against."""
    with local_mlflow(root) as experiment_id:
        register(fit_text_model(TRAIN_TEXTS, TRAIN_LABELS), model_name, experiment_id)
        return f"models:/{model_name}@champion", mlflow.get_tracking_uri()


# The environment variable `processes_with_env` looks for (see the `marked` fixture).
MARKER = "REVIEW_SENTIMENT_TEST_SERVER"


def processes_with_env(name: str, value: str) -> list[int]:
    """Pids of live processes, other than this one, whose environment has `name=value`: every
    descendant of a server started with it inherits it, whatever its process group."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie has exited; it only waits for its parent to read its status
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # exited meanwhile, or not ours to read
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def processes_left_with_env(name: str, value: str, *, timeout: float) -> list[int]:
    """Waits up to `timeout` seconds for every process with `name=value` to end; returns those
    still there."""
    deadline = time.monotonic() + timeout
    while (left := processes_with_env(name, value)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_processes_with_env(name: str, value: str) -> None:
    """SIGKILL to what a failed test left behind, so it does not outlive the test."""
    for pid in processes_with_env(name, value):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
