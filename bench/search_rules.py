"""How the model search should choose, decided on review sets built from training data only.

The holdout sets (bench/holdout.py) only measure; this is where the choice rule was decided.
Six binary review sets are built from ../shared/data/reviews (1-2 stars negative, 4-5
positive, balanced, seed 0):
  electronics, games, clothing   2,000 reviews each, headline and body joined as data
                                  extraction joins them ("Five Stars"-style headlines, which
                                  say the label, dropped)
  *_sentences                     1,000 first sentences of review bodies (4-40 words): short
                                  texts like the UCI sentences

For each set, 5-fold stratified CV (shuffled, seed 0). On each fold's training part the shipped
model_search space is cross-validated by the project's training pipeline itself (its
`search_models` node, bench/one_pipeline.py: 5 folds, 2 rounds), and every candidate is also
fitted on the whole training part and scored on the held-out part. Each
rule then picks from the inner scores alone, and the held-out score of its pick is what it earns.
Rules compared: the best mean; the shipped paired rule (noise 1 s.e. of the fold-by-fold
shortfall, fewest coefficients), with 1 and 2 rounds of folds; the earlier rule (1 s.e. of the
best's own spread, smallest pickled model); the original workflow's tfidf+sgd; and the best
held-out pick in hindsight (not a rule: the ceiling).

Usage: python bench/search_rules.py   (about 10-15 minutes on 2 quiet cores)
Writes bench/results/search_rules.json.
"""

from __future__ import annotations

import html
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedKFold
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
REVIEWS = PROJECT.parent / "shared" / "data" / "reviews"
RESULTS = PROJECT / "bench" / "results" / "search_rules.json"
AMAZON = {
    "electronics": "amazon_reviews_us_Electronics_v1_00_sample.csv",
    "games": "amazon_reviews_us_Digital_Video_Games_v1_00_sample.csv",
}
SETS = ("electronics", "games", "clothing", "electronics_sentences", "games_sentences", "clothing_sentences")
_STARS_HEADLINE = r"(?i)(one|two|three|four|five) stars?"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def review_set(name: str) -> pd.DataFrame:
    """One of SETS as text and label, balanced between the two classes."""
    from review_sentiment.reviews.reading import join_headline

    source = name.removesuffix("_sentences")
    if source in AMAZON:
        raw = pd.read_csv(REVIEWS / "amazon_us_reviews_sample" / AMAZON[source])
        headline, body, stars = raw["review_headline"], raw["review_body"], raw["star_rating"]
    else:
        raw = pd.read_csv(REVIEWS / "womens_clothing" / "womens_clothing_ecommerce_reviews.csv.gz")
        headline, body, stars = raw["Title"], raw["Review Text"], raw["Rating"]
    body = body.fillna("").astype(str).map(html.unescape).str.replace(r"<br\s*/?>", " ", regex=True)
    headline = headline.fillna("").astype(str).map(html.unescape)
    stars = stars.astype(int)
    label = np.select([stars <= 2, stars >= 4], ["negative", "positive"], default="")
    if name.endswith("_sentences"):
        text = body.map(lambda t: _SENTENCE_END.split(t.strip())[0])
        words = text.str.split().str.len()
        keep, per_class = (words >= 4) & (words <= 40), 500
    else:
        text = join_headline(headline.where(~headline.str.fullmatch(_STARS_HEADLINE), ""), body)
        keep, per_class = text.str.len() > 20, 1000
    frame = pd.DataFrame({"text": text, "label": label})[keep & (label != "")]
    frame = frame.drop_duplicates("text")
    balanced = [group.sample(n=per_class, random_state=0) for _, group in frame.groupby("label")]
    return pd.concat(balanced).sample(frac=1, random_state=0).reset_index(drop=True)


def _outer_fold(number, texts, labels, train, held_out, candidates, specs, parameters):
    """Inner CV scores of every candidate on the training part, and each one's held-out score."""
    sys.path.insert(0, str(PROJECT / "bench"))
    import one_pipeline

    from review_sentiment.modeling.search import score_fold

    features, training, search = parameters
    rows = pd.DataFrame({"text": texts[train], "label": labels[train]})
    # One process per outer fold already: the inner folds run in it.
    inner_search = search.model_copy(update={"n_jobs": 1, "repeats": 2})
    inner = one_pipeline.train(rows, features, training, inner_search, outputs=("model_search",))
    outer = score_fold(1, texts, labels, train, held_out, candidates, specs)
    return number, inner["model_search"].results, outer


def earlier_rule(results, noise: float):
    """The rule shipped before: within `noise` s.e. of the best's own spread, smallest pickle."""
    best = max(results, key=lambda r: r.macro_f1_mean)
    threshold = best.macro_f1_mean - noise * best.macro_f1_std / math.sqrt(len(best.macro_f1))
    within = [r for r in results if r.macro_f1_mean >= threshold - 1e-12]
    return min(within, key=lambda r: (r.model_size_bytes, r.candidate.name)).candidate.name


def first_round(results, folds: int):
    from dataclasses import replace

    return [replace(r, macro_f1=r.macro_f1[:folds], accuracy=r.accuracy[:folds]) for r in results]


def rules(search):
    """name → function(inner results) → chosen candidate name."""
    from review_sentiment.modeling.search import choose

    shipped = search.noise_standard_errors
    one = lambda results: first_round(results, search.folds)  # noqa: E731 - a table of rules
    return {
        "original workflow (tfidf+sgd)": lambda results: "tfidf+sgd",
        "best mean, 1 round": lambda results: choose(one(results), 0.0).chosen,
        "best mean, 2 rounds": lambda results: choose(results, 0.0).chosen,
        f"earlier rule ({shipped:g} s.e. of the best, smallest pickle), 1 round":
            lambda results: earlier_rule(one(results), shipped),
        f"paired {shipped:g} s.e., fewest coefficients, 1 round":
            lambda results: choose(one(results), shipped).chosen,
        f"paired {shipped:g} s.e., fewest coefficients, 2 rounds (shipped)":
            lambda results: choose(results, shipped).chosen,
    }  # fmt: skip


def main() -> None:
    sys.path.insert(0, str(PROJECT / "bench"))
    from one_pipeline import shipped_parameters

    from review_sentiment.modeling.candidates import expand_candidates
    from review_sentiment.modeling.features import feature_set_specs

    features, training, search = shipped_parameters(PROJECT)
    specs = feature_set_specs(features)
    candidates = expand_candidates(search, training.classifier, specs)
    table = rules(search)
    started = time.perf_counter()
    per_set = {}
    for name in SETS:
        reviews = review_set(name)
        texts, labels = reviews["text"].to_numpy(object), reviews["label"].to_numpy(object)
        splits = StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(texts, labels)
        folds = Parallel(n_jobs=2)(
            delayed(_outer_fold)(number, texts, labels, train, held_out, candidates, specs,
                                 (features, training, search))
            for number, (train, held_out) in enumerate(splits)
        )
        earned = {rule: [] for rule in [*table, "best held-out pick in hindsight (ceiling)"]}
        picks = {rule: [] for rule in table}
        for _, inner, outer in sorted(folds, key=lambda fold: fold[0]):
            for rule, pick in table.items():
                chosen = pick(inner)
                picks[rule].append(chosen)
                earned[rule].append(outer[chosen]["macro_f1"])
            earned["best held-out pick in hindsight (ceiling)"].append(max(s["macro_f1"] for s in outer.values()))
        per_set[name] = {
            "reviews": len(reviews),
            "macro_f1": {rule: float(np.mean(scores)) for rule, scores in earned.items()},
            "picks": picks,
        }
        print(f"{name}: " + ", ".join(f"{rule.split(',')[0][:24]} {score:.4f}"
                                      for rule, score in per_set[name]["macro_f1"].items()), flush=True)  # fmt: skip
    rule_names = list(next(iter(per_set.values()))["macro_f1"])
    mean = {rule: float(np.mean([per_set[s]["macro_f1"][rule] for s in SETS])) for rule in rule_names}
    result = {
        "what": "Six binary review sets from ../shared/data/reviews (never the holdout); 5-fold "
        "CV; on each training part the shipped space cross-validated (5 folds x 2 rounds) and "
        "every candidate scored on the held-out part; each rule earns the held-out macro-F1 of "
        "its pick (mean over folds).",
        "candidates": len(candidates),
        "seconds": round(time.perf_counter() - started, 1),
        "mean_macro_f1": mean,
        "sets": per_set,
    }
    write_results(RESULTS, result)
    print(f"\n{'rule':<72}{'mean macro-F1':>14}")
    for rule, score in mean.items():
        print(f"{rule:<72}{score:14.4f}")
    print(f"wrote {RESULTS.relative_to(PROJECT)}")


if __name__ == "__main__":
    sys.exit(main())
