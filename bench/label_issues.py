"""How well the label-error search finds flipped labels, and what it costs, before and after issue 12.

On real reviews from ../shared/data/reviews (research-only data: read from there, never copied
into the project; never the holdout): the 2 x 10,000 Amazon Customer Reviews (17,971 after
dropping empty and duplicate texts) and the 22,636 women's clothing reviews, stars mapped 1-2
negative, 3 neutral, 4-5 positive. Per seed, 5% of the labels are flipped at random to another
class; recall is the share of flipped labels the search flags, precision the share of flagged
labels that were flipped (the star labels have errors of their own, so precision is a floor).
At 100,000 and 300,000 rows the texts are made the way issue 12 made its big files: the headline
and stars of one Amazon review with the bodies of two random others, and 5% of those labels flipped.

OLD is the search before issue 12, copied below: uni+bigram TfidfVectorizer(min_df=2, sublinear)
and LogisticRegression(lbfgs) refitted on each of 5 folds. NEW is
review_sentiment.labeling.label_issues with the configured labeling.label_issues settings.
Its default max_train_rows (200,000 per fold, a 300,000-label sample with 3 folds) covers every
size here, so NEW_CAPPED (max_train_rows 100,000 at 300k: 150,000 labels in the sample, the rest
hashed and scored in chunks) shows what the sample costs in recall where it applies, as at 1M.
Every run is its own process (so its peak RSS is its own), old and new one after the other per
seed (the machine is shared: compare side by side, medians over seeds). peak_extra_mb is the
process's peak RSS minus its RSS just before the search (texts and labels already in memory).

Usage: python bench/label_issues.py [--seeds 0 1 2] [--old-big-seeds 0] [--sizes 100000 300000]
           [--capped-rows 100000] [--capped-sizes 300000] [--methods old new new_capped] [--merge]
--merge keeps the runs already in the results file and replaces those run again.
The old method takes minutes per run at 100k and more: --old-big-seeds picks the seeds it runs
on at the big sizes (default seed 0 only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
REVIEWS = PROJECT.parent / "shared" / "data" / "reviews"
RESULTS = PROJECT / "bench" / "results" / "label_issues.json"
CONFIGURED = PROJECT / "conf" / "base" / "parameters_labeling.yml"
CLASSES = ["positive", "negative", "neutral"]
STARS = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
FLIP_RATE = 0.05


def amazon() -> pd.DataFrame:
    """Both Amazon CSVs: headline, body, text = headline + ". " + body (cleaned), label."""
    from review_sentiment.pipelines.data_extraction.nodes import clean_text

    files = sorted((REVIEWS / "amazon_us_reviews_sample").glob("*.csv"))
    if len(files) != 2:
        sys.exit(f"expected the two Amazon review CSVs in {REVIEWS}, found {len(files)}")
    raw = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    reviews = pd.DataFrame(
        {
            "headline": raw["review_headline"].fillna("").astype(str).map(clean_text),
            "body": raw["review_body"].fillna("").astype(str).map(clean_text),
            "label": raw["star_rating"].astype(int).map(STARS),
        }
    )
    reviews["text"] = (reviews["headline"] + ". " + reviews["body"]).str.strip()
    return reviews[reviews["text"].ne(".")].drop_duplicates("text").reset_index(drop=True)


def clothing() -> pd.DataFrame:
    """The women's clothing reviews: text = title + ". " + review text (cleaned), label."""
    from review_sentiment.pipelines.data_extraction.nodes import clean_text

    raw = pd.read_csv(REVIEWS / "womens_clothing" / "womens_clothing_ecommerce_reviews.csv.gz")
    title = raw["Title"].fillna("").astype(str)
    text = (title + ". " + raw["Review Text"].fillna("").astype(str)).map(clean_text).str.strip(". ")
    reviews = pd.DataFrame({"text": text, "label": raw["Rating"].astype(int).map(STARS)})
    return reviews[reviews["text"].ne("")].drop_duplicates("text").reset_index(drop=True)


def issue_12_texts(rows: int, seed: int) -> tuple[list[str], list[str]]:
    """Issue 12's big files: one Amazon review's headline and stars with two random others' bodies."""
    reviews = amazon()
    rng = np.random.default_rng(1000 + seed)
    own, first, second = (rng.integers(len(reviews), size=rows) for _ in range(3))
    headline = reviews["headline"].to_numpy(object)
    body = reviews["body"].to_numpy(object)
    texts = [f"{headline[i]}. {body[j]} {body[k]}" for i, j, k in zip(own, first, second)]
    return texts, reviews["label"].to_numpy(object)[own].tolist()


def flip(labels: list[str], seed: int) -> tuple[list[str], set[int]]:
    """5% of the labels, chosen at random, changed to one of the other classes at random."""
    rng = np.random.default_rng(seed)
    given = list(labels)
    flipped = rng.choice(len(given), round(FLIP_RATE * len(given)), replace=False)
    for i in flipped:
        given[i] = str(rng.choice([c for c in CLASSES if c != given[i]]))
    return given, {int(i) for i in flipped}


def old_search(texts: list[str], labels: list[str], cv_folds: int = 5, seed: int = 42) -> np.ndarray:
    """The search before issue 12 (label_issues.py at 1a05d51), minus the result frame: positions
    of the likely errors."""
    from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline as SklearnPipeline

    label_ids = np.array([CLASSES.index(label) for label in labels])
    examples = np.asarray(texts, dtype=object)
    probabilities = np.zeros((len(texts), len(CLASSES)))
    folds = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=seed)
    for train, held_out in folds.split(examples, label_ids):
        model = SklearnPipeline(
            [
                ("vectorizer", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
                ("classifier", LogisticRegression(max_iter=1000)),
            ]
        ).fit(examples[train], label_ids[train])
        probabilities[np.ix_(held_out, model.classes_)] = model.predict_proba(examples[held_out])
    return cleanlab_find_label_issues(
        label_ids, probabilities, return_indices_ranked_by="self_confidence", n_jobs=1
    )


def configured() -> dict:
    """The labeling.label_issues settings of conf/base, as find_label_issues keywords."""
    settings = yaml.safe_load(CONFIGURED.read_text())["labeling"]["label_issues"]
    return {key: value for key, value in settings.items() if key != "enabled"}


def _memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_one(data: str, method: str, seed: int, capped_rows: int) -> dict:
    """One search in this process: the data, flipped labels, the search, its figures."""
    if data == "amazon":
        frame = amazon()
        texts, labels = frame["text"].tolist(), frame["label"].tolist()
    elif data == "clothing":
        frame = clothing()
        texts, labels = frame["text"].tolist(), frame["label"].tolist()
    else:
        texts, labels = issue_12_texts(int(data), seed)
    given, flipped = flip(labels, seed)
    settings = configured()
    if method == "new_capped":
        settings["max_train_rows"] = capped_rows
    before = _memory_mb("VmRSS")
    started = time.perf_counter()
    if method == "old":
        flagged = {int(i) for i in old_search(texts, given)}
    else:
        from review_sentiment.labeling.label_issues import find_label_issues

        issues = find_label_issues(texts, given, CLASSES, **settings)
        flagged = set(issues["position"].tolist())
    seconds = time.perf_counter() - started
    peak = _memory_mb("VmHWM")
    found = len(flagged & flipped)
    return {
        "data": data,
        "rows": len(texts),
        "method": method,
        "seed": seed,
        "settings": {"cv_folds": 5, "seed": 42} if method == "old" else settings,
        "flipped": len(flipped),
        "flagged": len(flagged),
        "recall": found / len(flipped),
        "precision": found / len(flagged) if flagged else None,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "peak_extra_mb": peak - before,
    }


def _in_subprocess(data: str, method: str, seed: int, capped_rows: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--one", data, method, str(seed), "--capped-rows", str(capped_rows)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    """Per data set and method: medians over seeds of recall, precision, seconds, peak extra MB."""
    summary: dict = {}
    for run in runs:
        summary.setdefault(run["data"], {}).setdefault(run["method"], []).append(run)
    return {
        data: {
            method: {
                "rows": group[0]["rows"],
                "seeds": [run["seed"] for run in group],
                **{
                    f"median_{key}": statistics.median(run[key] for run in group)
                    for key in ("recall", "precision", "seconds", "peak_extra_mb", "peak_rss_mb")
                },
            }
            for method, group in methods.items()
        }
        for data, methods in summary.items()
    }


def _write(runs: list[dict], args: argparse.Namespace) -> None:
    results = {
        "bench": "label_issues",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "note": "shared 2-core machine with other benchmarks running: compare old and new side by side",
        "flip_rate": FLIP_RATE,
        "new_settings": configured(),
        "old_big_seeds": args.old_big_seeds,
        "capped_rows": args.capped_rows,
        "summary": _summary(runs),
        "runs": runs,
    }
    write_results(RESULTS, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--old-big-seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 300_000])
    parser.add_argument("--capped-sizes", type=int, nargs="*", default=[300_000])
    parser.add_argument("--capped-rows", type=int, default=100_000)
    parser.add_argument("--real", nargs="*", default=["amazon", "clothing"])
    parser.add_argument("--methods", nargs="+", default=["old", "new", "new_capped"])
    parser.add_argument("--merge", action="store_true")
    parser.add_argument("--one", nargs=3, metavar=("DATA", "METHOD", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        data, method, seed = args.one
        print(json.dumps(run_one(data, method, int(seed), args.capped_rows)))
        return
    plan = [(data, method, seed) for data in args.real for seed in args.seeds for method in ("old", "new")]
    for size in args.sizes:
        plan += [(str(size), "new", seed) for seed in args.seeds]
        if size in args.capped_sizes:
            plan += [(str(size), "new_capped", seed) for seed in args.seeds]
    # The old method's slow big runs last: the results file is rewritten after every run.
    plan += [(str(size), "old", seed) for size in args.sizes for seed in args.old_big_seeds]
    plan = [(data, method, seed) for data, method, seed in plan if method in args.methods]
    runs: list[dict] = []
    if args.merge and RESULTS.exists():
        again = set(plan)
        runs = [
            run for run in json.loads(RESULTS.read_text())["runs"]
            if (run["data"], run["method"], run["seed"]) not in again
        ]
    for data, method, seed in plan:
        run = _in_subprocess(data, method, seed, args.capped_rows)
        runs.append(run)
        _write(runs, args)
        print(
            f"{data:>8} {method} seed {seed}: recall {run['recall']:.3f} precision "
            f"{run['precision'] or 0:.3f} ({run['flagged']:,} flagged of {run['rows']:,}), "
            f"{run['seconds']:.1f} s, peak +{run['peak_extra_mb']:.0f} MB ({run['peak_rss_mb']:.0f} MB)",
            flush=True,
        )
    print(json.dumps(_summary(runs), indent=2))


if __name__ == "__main__":
    main()
