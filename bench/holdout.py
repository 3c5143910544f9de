"""The model search measured on public sentiment sets the project never trains on, against the
model of the workflow it automates.

For each set in ../shared/data/holdout (UCI sentiment labelled sentences: amazon, yelp, imdb,
1,000 sentences each; Blitzer multi-domain sentiment: books, dvd, electronics, kitchen, 2,000
reviews each, title and text joined as data extraction joins headline and body; all binary):
5-fold stratified CV (shuffled, random_state 0) of
  (a) the original workflow's model: CountVectorizer bigrams + TfidfTransformer + SGDClassifier
      with scikit-learn's defaults (random_state 42, the project's seed), and
  (b) what `kedro run --pipelines model_search` picks when run on each fold's training part
      only: the project's training pipeline itself (bench/one_pipeline.py) with the shipped
      conf/base parameters (model_search's space, inner 5-fold CV run twice, choice rule).
Prints and writes accuracy and macro-F1 per set (mean over the 5 folds), the Blitzer mean, b − a,
what the search chose in each fold, and the search's wall seconds per fold.

These sets only measure: the search space and the choice rule were fixed on the project's
training data (the rule on bench/search_rules.py's review sets) before this ran; nothing here
is tuned or chosen on them.

Usage: python bench/holdout.py [--sets amazon,yelp,...]   (about 20 minutes on 2 quiet cores)
Writes bench/results/holdout.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
HOLDOUT = PROJECT.parent / "shared" / "data" / "holdout"
RESULTS = PROJECT / "bench" / "results" / "holdout.json"
UCI = {"amazon": "amazon_cells_labelled.txt", "yelp": "yelp_labelled.txt", "imdb": "imdb_labelled.txt"}
BLITZER = ("books", "dvd", "electronics", "kitchen_housewares")
LABELS = {0: "negative", 1: "positive"}


def read_uci(name: str) -> pd.DataFrame:
    """Sentence TAB 0|1 per line; a few imdb sentences run over several lines."""
    rows, pending = [], []
    path = HOLDOUT / "uci_sentiment_labelled_sentences" / UCI[name]
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.search(r"\t\s*([01])\s*$", line)
        if match is None:
            pending.append(line)
            continue
        text = " ".join([*pending, line[: match.start()]]).strip()
        rows.append((text, LABELS[int(match.group(1))]))
        pending = []
    if pending:
        raise ValueError(f"{path}: text at the end without a 0/1 label: {pending[0][:60]!r}")
    return pd.DataFrame(rows, columns=["text", "label"])


_FIELD = {name: re.compile(rf"<{name}>\s*(.*?)\s*</{name}>", re.S) for name in ("title", "review_text")}


def read_blitzer(domain: str) -> pd.DataFrame:
    from review_sentiment.reviews.reading import join_headline

    rows = []
    for label in ("positive", "negative"):
        path = HOLDOUT / "blitzer_multidomain_sentiment" / domain / f"{label}.review"
        for review in path.read_text(encoding="latin-1").split("</review>"):
            body = _FIELD["review_text"].search(review)
            if body is None:
                continue
            title = _FIELD["title"].search(review)
            rows.append((title.group(1) if title else "", body.group(1), label))
    frame = pd.DataFrame(rows, columns=["title", "body", "label"])
    text = join_headline(frame["title"], frame["body"])
    return pd.DataFrame({"text": text, "label": frame["label"]})


def original_model():
    return make_pipeline(
        CountVectorizer(ngram_range=(1, 2)), TfidfTransformer(), SGDClassifier(random_state=42)
    )


def scores(truth, predicted) -> dict[str, float]:
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
    }


def measure(name: str, reviews: pd.DataFrame, features, training, search) -> dict:
    import one_pipeline

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    per_fold = []
    for number, (train, held_out) in enumerate(folds.split(reviews["text"], reviews["label"])):
        train_part = reviews.iloc[train].reset_index(drop=True)
        held = reviews.iloc[held_out].reset_index(drop=True)
        original = original_model().fit(train_part["text"], train_part["label"])
        started = time.perf_counter()
        trained = one_pipeline.train(train_part, features, training, search)
        search_seconds = time.perf_counter() - started
        model, selection = trained["best_model"], trained["model_selection"]
        fold = {
            "fold": number,
            "original": scores(held["label"], original.predict(held["text"])),
            "searched": scores(held["label"], model.predict(held["text"].tolist())),
            "chosen": selection["feature_set"],
            "search_seconds": round(search_seconds, 1),
        }
        per_fold.append(fold)
        print(f"  {name} fold {number}: original acc {fold['original']['accuracy']:.3f}, "
              f"searched acc {fold['searched']['accuracy']:.3f} ({fold['chosen']}, "
              f"search {search_seconds:.0f} s)", flush=True)  # fmt: skip
    summary = {"reviews": len(reviews), "folds": per_fold}
    for model in ("original", "searched"):
        summary[model] = {
            metric: float(np.mean([fold[model][metric] for fold in per_fold]))
            for metric in ("accuracy", "macro_f1")
        }
    summary["searched_minus_original"] = {
        metric: summary["searched"][metric] - summary["original"][metric] for metric in ("accuracy", "macro_f1")
    }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join([*UCI, *BLITZER]))
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT / "bench"))
    from one_pipeline import shipped_parameters

    features, training, search = shipped_parameters(PROJECT)
    readers = {**{name: lambda n=name: read_uci(n) for name in UCI},
               **{name: lambda n=name: read_blitzer(n) for name in BLITZER}}  # fmt: skip
    started = time.perf_counter()
    sets = {}
    for name in args.sets.split(","):
        reviews = readers[name]()
        print(f"{name}: {len(reviews)} reviews {reviews['label'].value_counts().to_dict()}", flush=True)
        sets[name] = measure(name, reviews, features, training, search)
    blitzer = [name for name in BLITZER if name in sets]
    result = {
        "what": "5-fold stratified CV (shuffle, random_state 0): (a) CountVectorizer bigrams + "
        "TfidfTransformer + SGDClassifier defaults; (b) the model search's pick on each fold's "
        "training part (the training pipeline with conf/base model_search space and rule). Never "
        "tuned or chosen on these sets.",
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "n_jobs": search.n_jobs},  # fmt: skip
        "seconds": round(time.perf_counter() - started, 1),
        "sets": sets,
    }
    if blitzer:
        result["blitzer_mean"] = {
            model: {metric: float(np.mean([sets[n][model][metric] for n in blitzer]))
                    for metric in ("accuracy", "macro_f1")}
            for model in ("original", "searched")
        }  # fmt: skip
        seconds = [fold["search_seconds"] for n in blitzer for fold in sets[n]["folds"]]
        result["search_seconds_per_fold_2000_reviews"] = {
            "median": statistics.median(seconds), "max": max(seconds), "folds": len(seconds)
        }
    write_results(RESULTS, result)
    print(f"\n{'set':<20}{'acc a':>8}{'acc b':>8}{'b-a':>8}{'F1 a':>8}{'F1 b':>8}{'b-a':>8}")
    for name, s in sets.items():
        print(f"{name:<20}{s['original']['accuracy']:8.3f}{s['searched']['accuracy']:8.3f}"
              f"{s['searched_minus_original']['accuracy']:+8.3f}{s['original']['macro_f1']:8.3f}"
              f"{s['searched']['macro_f1']:8.3f}{s['searched_minus_original']['macro_f1']:+8.3f}")  # fmt: skip
    if blitzer:
        mean = result["blitzer_mean"]
        print(f"{'Blitzer mean':<20}{mean['original']['accuracy']:8.3f}{mean['searched']['accuracy']:8.3f}"
              f"{mean['searched']['accuracy'] - mean['original']['accuracy']:+8.3f}"
              f"{mean['original']['macro_f1']:8.3f}{mean['searched']['macro_f1']:8.3f}"
              f"{mean['searched']['macro_f1'] - mean['original']['macro_f1']:+8.3f}")  # fmt: skip
        print(f"search seconds per fold (2,000-review sets): {result['search_seconds_per_fold_2000_reviews']}")
    print(f"wrote {RESULTS.relative_to(PROJECT)}")


if __name__ == "__main__":
    sys.exit(main())
