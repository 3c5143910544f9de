"""What each bounded-feature option costs and buys: quality on real reviews, time, memory and model
size up to a million synthetic ones (issue 12).

For every option (`OPTIONS`: today's unbounded int64 counts, the same as float32, min_df 2/3/5,
max_features 2**18/2**20, a vocabulary learned from a 100k sample, hashing 2**18/2**20/2**22):

- quality: accuracy and macro-F1 of both models (SGD on bigram counts, SGD on bigram TF-IDF) on
  the project's stratified 20% test split (`split_reviews`, seed 42) of REAL reviews, with two
  measures of noise (the bootstrap standard error over test reviews, and the scores of the
  classifier fitted with seeds 0-4 instead of 42): the 20,000
  Amazon Customer Reviews and the 22,641 Women's Clothing reviews in ../shared/data (stars 1-2
  negative, 3 neutral, 4-5 positive; cleaned by data_extraction's own nodes);
- cost: at 100k, 300k and 1M SYNTHETIC reviews made as issue 12 made them (the headline and
  stars of one Amazon review with the bodies of two random others, from the same 20,000, seeded),
  the seconds of build_bigram_features and build_tfidf_features and of both fits, the peak RSS
  of those four steps, and the pickled size of both served models (accuracy is recorded too,
  but options are chosen on the real sets).

Each measurement runs in a fresh subprocess (`--run-one`), one at a time. Peak RSS is the
kernel's high-water mark (VmHWM in /proc/self/status), reset (`/proc/self/clear_refs` 5) once
the texts are loaded and split, and read after the second fit: the peak of the four steps,
texts included (`rss_before_mb` is what the texts and the interpreter held before them). A
child whose RSS passes --memory-limit-gb (sampled every 0.2 s) is killed and recorded as such.
The holdout sets are never read.

Usage: python bench/features.py [--sizes 100000 300000] [--million OPTION ...] [--datasets real synthetic]
Writes bench/results/features.json after every measurement (temp file + rename).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
REVIEWS = PROJECT.parent / "shared" / "data" / "reviews"
AMAZON = REVIEWS / "amazon_us_reviews_sample"
CLOTHING = REVIEWS / "womens_clothing" / "womens_clothing_ecommerce_reviews.csv.gz"
# What `make run` learns from (8,000 of the clothing reviews): its figures, not a third vote.
BUNDLED = PROJECT / "data" / "01_raw" / "womens_clothing_reviews_8k.csv.gz"
REAL = ("amazon", "clothing", "bundled")
RESULTS = PROJECT / "bench" / "results" / "features.json"
LABELS = ["positive", "negative", "neutral"]
SEEDS = range(5)
STARS = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}

# name → feature_engineering parameters; "today" is the node before issue 12 (int64 counts).
OPTIONS: dict[str, dict] = {
    "today: counts, min_df 1, int64": {"today": True},
    "counts, min_df 1": {"vectorizer": "counts"},
    "counts, min_df 2": {"vectorizer": "counts", "min_df": 2},
    "counts, min_df 3": {"vectorizer": "counts", "min_df": 3},
    "counts, min_df 5": {"vectorizer": "counts", "min_df": 5},
    "counts, max_features 2^18": {"vectorizer": "counts", "max_features": 2**18},
    "counts, max_features 2^20": {"vectorizer": "counts", "max_features": 2**20},
    "counts, min_df 2, vocabulary from 100k": {
        "vectorizer": "counts", "min_df": 2, "vocabulary_sample_size": 100_000,
    },
    "hashing 2^18": {"vectorizer": "hashing", "n_features": 2**18},
    "hashing 2^20": {"vectorizer": "hashing", "n_features": 2**20},
    "hashing 2^22": {"vectorizer": "hashing", "n_features": 2**22},
}


# --- one measurement, in its own process ---------------------------------------------------------


def _status(field: str) -> float:
    """A field of /proc/self/status in MB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _labeled(frame, stars):
    import pandas as pd

    return pd.DataFrame({"text": frame, "label": [STARS[int(s)] for s in stars]})


def real_reviews(name: str):
    """Text and label of a real set, cleaned as data_extraction cleans it."""
    import pandas as pd

    from review_sentiment.params import ExtractionParams
    from review_sentiment.pipelines.data_extraction.nodes import clean_reviews, select_review_fields

    params = ExtractionParams(labels=LABELS)
    if name == "amazon":
        raw = pd.concat([pd.read_csv(path) for path in sorted(AMAZON.glob("*.csv"))], ignore_index=True)
    else:
        raw = pd.read_csv(CLOTHING if name == "clothing" else BUNDLED)
    reviews, _ = clean_reviews(select_review_fields(raw, params), params)
    return _labeled(reviews["text"], reviews["star_rating"])


def synthetic_reviews(size: int, seed: int = 0):
    """Issue 12's scale data: one Amazon review's headline and stars with the bodies of two
    random others (seeded), so that words and word pairs keep arriving as the set grows."""
    import numpy as np
    import pandas as pd

    from review_sentiment.pipelines.data_extraction.nodes import clean_text

    raw = pd.concat([pd.read_csv(path) for path in sorted(AMAZON.glob("*.csv"))], ignore_index=True)
    headline = raw["review_headline"].fillna("").astype(str).map(clean_text).to_numpy(object)
    body = raw["review_body"].fillna("").astype(str).map(clean_text).to_numpy(object)
    rng = np.random.default_rng(seed)
    first, second, third = (rng.integers(0, len(raw), size) for _ in range(3))
    texts = [f"{headline[a]}. {body[b]} {body[c]}" for a, b, c in zip(first, second, third, strict=True)]
    return _labeled(texts, raw["star_rating"].to_numpy()[first])


def _today_bigram_features(train, test, params):
    """build_bigram_features before issue 12, verbatim: int64 counts, min_df 1."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(
        ngram_range=tuple(params.ngram_range), min_df=params.min_df, lowercase=params.lowercase
    )
    return vectorizer, vectorizer.fit_transform(train["text"]), vectorizer.transform(test["text"])


def _bootstrap_se(truth, predicted, resamples: int = 200) -> float:
    """The standard error of a test macro-F1 (test reviews resampled, seeded): the noise."""
    import numpy as np

    from review_sentiment.scoring import macro_f1

    truth, predicted = np.asarray(truth), np.asarray(predicted)
    rng = np.random.default_rng(0)
    picks = (rng.integers(0, len(truth), len(truth)) for _ in range(resamples))
    return float(np.std([macro_f1(truth[pick], predicted[pick]) for pick in picks]))


def run_one(dataset: str, option: str) -> dict:
    """One option on one data set, measured in this process."""
    from sklearn.metrics import accuracy_score

    from review_sentiment.params import ClassifierParams, FeatureParams
    from review_sentiment.modeling.nodes import (
        build_bigram_features,
        build_bigram_model,
        build_tfidf_features,
        build_tfidf_model,
        fit_classifier,
    )
    from review_sentiment.pipelines.feature_engineering.nodes import split_reviews
    from review_sentiment.scoring import macro_f1

    settings = dict(OPTIONS[option])
    today = settings.pop("today", False)
    params = FeatureParams(**settings)
    reviews = real_reviews(dataset) if dataset in REAL else synthetic_reviews(int(dataset))
    train, test = split_reviews(reviews, params)
    del reviews
    rss_before = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS

    started = time.perf_counter()
    build = _today_bigram_features if today else build_bigram_features
    vectorizer, bigram_train, bigram_test = build(train, test, params)
    counted = time.perf_counter()
    transformer, tfidf_train, tfidf_test = build_tfidf_features(bigram_train, bigram_test, params)
    features_done = time.perf_counter()
    classifier = ClassifierParams()
    bigram_classifier = fit_classifier(bigram_train, train, classifier)
    tfidf_classifier = fit_classifier(tfidf_train, train, classifier)
    fitted = time.perf_counter()
    peak = _status("VmHWM")

    result = {
        "dataset": dataset, "option": option, "train_size": len(train), "test_size": len(test),
        "columns": int(bigram_train.shape[1]), "train_nnz": int(bigram_train.nnz),
        "dtypes": {"counts": str(bigram_train.dtype), "tfidf": str(tfidf_train.dtype),
                   "coef": str(bigram_classifier.coef_.dtype)},
        "bigram_seconds": round(counted - started, 2),
        "features_seconds": round(features_done - started, 2),
        "fit_seconds": round(fitted - features_done, 2),
        "rss_before_mb": round(rss_before), "peak_rss_mb": round(peak),
    }  # fmt: skip
    for name, model_classifier, x_test in (
        ("bigram", bigram_classifier, bigram_test),
        ("tfidf", tfidf_classifier, tfidf_test),
    ):
        predicted = model_classifier.predict(x_test)
        result[f"{name}_macro_f1"] = round(macro_f1(test["label"], predicted), 4)
        result[f"{name}_accuracy"] = round(float(accuracy_score(test["label"], predicted)), 4)
        if dataset in REAL:
            result[f"{name}_macro_f1_se"] = round(_bootstrap_se(test["label"], predicted), 4)
    if dataset in REAL:
        # The other noise: the classifier's own seed (SGD shuffles); same features, 5 seeds.
        for name, x_train, x_test in (
            ("bigram", bigram_train, bigram_test), ("tfidf", tfidf_train, tfidf_test),
        ):  # fmt: skip
            scores = [
                macro_f1(test["label"], fit_classifier(x_train, train, ClassifierParams(random_state=seed)).predict(x_test))
                for seed in SEEDS
            ]
            result[f"{name}_macro_f1_seeds"] = [round(score, 4) for score in scores]
    models = {
        "bigram": build_bigram_model(vectorizer, bigram_classifier),
        "tfidf": build_tfidf_model(vectorizer, transformer, tfidf_classifier),
    }
    for name, model in models.items():
        result[f"{name}_model_mb"] = round(len(pickle.dumps(model, protocol=5)) / 2**20, 1)
    return result


# --- the driver: one subprocess per measurement --------------------------------------------------


def measure(dataset: str, option: str, limit_gb: float) -> dict:
    """`run_one` in a fresh process, killed if its RSS passes `limit_gb`."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--run-one", dataset, option],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT,
    )  # fmt: skip
    try:
        return _watch(child, dataset, option, limit_gb)
    finally:
        if child.poll() is None:  # this script was stopped: so is its measurement
            child.kill()
            child.wait()


def _watch(child: subprocess.Popen, dataset: str, option: str, limit_gb: float) -> dict:
    status = Path(f"/proc/{child.pid}/status")
    while child.poll() is None:
        try:
            rss = next(
                int(line.split()[1]) / 2**20
                for line in status.read_text().splitlines()
                if line.startswith("VmRSS:")
            )
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            rss = 0.0
        if rss > limit_gb:
            child.kill()
            child.wait()
            return {"dataset": dataset, "option": option,
                    "killed": f"RSS passed {limit_gb} GB ({rss:.1f} GB)"}  # fmt: skip
        time.sleep(0.2)
    out, err = child.communicate()
    if child.returncode != 0:
        return {"dataset": dataset, "option": option, "failed": err.strip().splitlines()[-1:]}
    return json.loads(out.strip().splitlines()[-1])


def print_row(row: dict) -> None:
    if "killed" in row or "failed" in row:
        print(f"{row['dataset']:>9} {row['option']:<42} {row.get('killed') or row.get('failed')}")
        return
    print(
        f"{row['dataset']:>9} {row['option']:<42} {row['bigram_macro_f1']:>6.3f} "
        f"{row['tfidf_macro_f1']:>6.3f} {row['bigram_accuracy']:>6.3f} {row['tfidf_accuracy']:>6.3f} "
        f"{row['columns']:>9,} {row['features_seconds']:>7.1f} {row['fit_seconds']:>6.1f} "
        f"{row['rss_before_mb']:>7,} {row['peak_rss_mb']:>7,} {row['bigram_model_mb']:>7.1f} "
        f"{row['tfidf_model_mb']:>7.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-one", nargs=2, metavar=("DATASET", "OPTION"), help=argparse.SUPPRESS)
    parser.add_argument("--datasets", nargs="+", default=["real", "synthetic"],
                        help="real (Amazon, Clothing), bundled (make run's 8,000), synthetic")
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000, 300_000])
    parser.add_argument("--million", nargs="*", default=[], choices=list(OPTIONS),
                        help="options also measured at 1,000,000 synthetic reviews (once each)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per measurement (median)")
    parser.add_argument("--memory-limit-gb", type=float, default=12.0)
    parser.add_argument("--append", action="store_true", help="keep the results already written")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))
    if args.run_one:
        print(json.dumps(run_one(*args.run_one)))
        return

    plan = []
    if "real" in args.datasets:
        plan += [(dataset, option) for dataset in ("amazon", "clothing") for option in args.options]
    if "bundled" in args.datasets:
        plan += [("bundled", option) for option in args.options]
    if "synthetic" in args.datasets:
        plan += [(str(size), option) for size in args.sizes for option in args.options]
    plan += [("1000000", option) for option in args.million]
    meta = {
        "machine": f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "memory": "peak RSS of build_bigram_features + build_tfidf_features + both fits: VmHWM, "
        "reset after loading and splitting the texts (rss_before_mb)",
        "repeats": args.repeats,
    }
    results = []
    if args.append and RESULTS.exists():
        results = json.loads(RESULTS.read_text())["results"]
    print(f"{'data':>9} {'option':<42} {'F1 cnt':>6} {'F1 tfidf':>6} {'acc cnt':>6} {'acc tfidf':>6} "
          f"{'columns':>9} {'feat s':>7} {'fit s':>6} {'RSS0 MB':>7} {'peak MB':>7} "
          f"{'cnt MB':>7} {'tfidf MB':>7}")  # fmt: skip
    for dataset, option in plan:
        runs = [measure(dataset, option, args.memory_limit_gb) for _ in range(args.repeats)]
        row = runs[-1]
        if all("peak_rss_mb" in run for run in runs) and len(runs) > 1:
            for key in ("bigram_seconds", "features_seconds", "fit_seconds", "peak_rss_mb"):
                row[key] = median(run[key] for run in runs)
            row["runs"] = runs
        results = [r for r in results if (r["dataset"], r["option"]) != (dataset, option)] + [row]
        print_row(row)
        write_results(RESULTS, {**meta, "results": results}, indent=1)


if __name__ == "__main__":
    main()
