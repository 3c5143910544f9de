"""The search space, the cross-validation and the choice rule, on real reviews."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from pydantic import ValidationError

from review_sentiment.modeling.search import (
    CandidateResult,
    choose,
    count_coefficients,
    cross_validate,
    cv_rows,
    fit_candidate,
)
from review_sentiment.modeling.candidates import (
    Candidate,
    build_classifier,
    expand_candidates,
    export_model,
)
from review_sentiment.modeling.features import feature_set_specs, fit_features, transform
from review_sentiment.params import ClassifierParams, FeatureParams, SearchParams
from review_sentiment.registry import as_text_model
from tests.modeling import star_labeled_reviews

FEATURES = FeatureParams(
    feature_sets={
        "nb": {"word_ngrams": [1, 2], "weighting": "nb", "binary": True},
        "word_char": {"word_ngrams": [1, 1], "char_ngrams": [2, 4], "sublinear_tf": True, "min_df": 2},
    }
)


@pytest.fixture(scope="module")
def reviews():
    return star_labeled_reviews(300)


def _result(name: str, scores: list[float], coefficients: int, fit_seconds: float = 1.0) -> CandidateResult:
    candidate = Candidate(name=name, feature_set="f", classifier="c", kind="sgd")
    return CandidateResult(candidate, scores, scores, fit_seconds, coefficients * 8, coefficients)


def test_a_model_with_fewer_coefficients_within_noise_of_the_best_wins():
    # Fold 3 is hard for every model: the folds' own difficulty cancels in the paired differences.
    best = _result("big", [0.80, 0.84, 0.70, 0.82, 0.78], coefficients=500_000)  # mean 0.788
    close = _result("small", [0.80, 0.82, 0.70, 0.81, 0.79], coefficients=50_000)  # 0.784, ±0.01 a fold
    steady = _result("steady", [0.78, 0.82, 0.68, 0.80, 0.76], coefficients=5_000)  # 0.02 lower on every fold
    choice = choose([best, close, steady], noise_standard_errors=1.0)

    assert choice.chosen == "small"
    assert choice.best == "big"
    assert choice.within_noise == ["big", "small"]
    assert "fewer coefficients (50,000 vs 500,000)" in choice.reason
    assert "test split is not used" in choice.rule and "5 folds" in choice.rule


def test_without_a_noise_allowance_the_best_mean_wins():
    best = _result("big", [0.80, 0.84, 0.70, 0.82, 0.78], coefficients=500_000)
    close = _result("small", [0.80, 0.82, 0.70, 0.81, 0.79], coefficients=50_000)

    assert choose([best, close], noise_standard_errors=0.0).chosen == "big"


def test_the_choice_does_not_depend_on_fit_times_or_the_order_of_candidates():
    results = [
        _result("b", [0.80, 0.82, 0.78], coefficients=100),
        _result("a", [0.80, 0.82, 0.78], coefficients=100, fit_seconds=9.0),
        _result("c", [0.79, 0.83, 0.78], coefficients=100, fit_seconds=0.1),
    ]

    chosen = {choose(order, noise_standard_errors=1.0).chosen for order in (results, results[::-1])}

    assert chosen == {"a"}  # equal scores and costs: the name decides, never the clock


def test_the_original_two_models_are_always_candidates():
    specs = feature_set_specs(FEATURES)
    search = SearchParams(
        repeats=1, max_rows=None,
        classifiers={"lr": {"kind": "logistic_regression", "grid": {"C": [1.0, 10.0]}}},
        candidates={"word_char": ["lr"]},
    )

    candidates = expand_candidates(search, ClassifierParams(), specs)
    nothing_declared = expand_candidates(SearchParams(repeats=1, max_rows=None), ClassifierParams(), specs)

    assert [c.name for c in candidates] == [
        "bigram+sgd", "tfidf+sgd", "word_char+lr(C=1.0)", "word_char+lr(C=10.0)"
    ]
    assert [c.original for c in candidates] == [True, True, False, False]
    assert [c.name for c in nothing_declared] == ["bigram+sgd", "tfidf+sgd"]
    assert candidates[0].params == ClassifierParams().model_dump()  # training.classifier


def test_the_original_feature_sets_cannot_be_redefined():
    with pytest.raises(ValueError, match=r"feature_engineering.feature_sets.tfidf: the name is one of the original"):
        feature_set_specs(FeatureParams(feature_sets={"tfidf": {"sublinear_tf": True}}))


def test_an_unknown_classifier_or_feature_set_is_named():
    with pytest.raises(ValidationError, match=r"candidates.word_char: classifier\(s\) svm not in"):
        SearchParams(repeats=1, max_rows=None, candidates={"word_char": ["svm"]})
    with pytest.raises(ValueError, match="candidates.chars: no such feature set"):
        expand_candidates(SearchParams(repeats=1, max_rows=None, candidates={"chars": ["sgd"]}), ClassifierParams(), feature_set_specs(FEATURES))


def test_class_weights_are_accepted_fixed_or_searched():
    specs = feature_set_specs(FEATURES)
    search = SearchParams(
        repeats=1, max_rows=None,
        classifiers={
            "lr": {"kind": "logistic_regression", "params": {"class_weight": "balanced"}},
            "svm": {"kind": "linear_svm", "grid": {"class_weight": [None, "balanced", {"neutral": 3.0}]}},
        },
        candidates={"word_char": ["lr", "svm"]},
    )

    built = {c.name: build_classifier(c, specs[c.feature_set]) for c in expand_candidates(search, ClassifierParams(), specs)}

    assert built["word_char+lr"].class_weight == "balanced"
    assert [built[f"word_char+svm(class_weight={w})"].class_weight for w in ("None", "balanced", "{'neutral': 3.0}")] == [
        None, "balanced", {"neutral": 3.0}
    ]


def test_an_argument_scikit_learn_does_not_take_is_named():
    candidate = Candidate(name="x", feature_set="tfidf", classifier="lr", kind="logistic_regression", params={"Cee": 1})

    with pytest.raises(ValueError, match=r"training.search.classifiers.lr \(logistic_regression\)"):
        build_classifier(candidate, feature_set_specs(FEATURES)["tfidf"])


@pytest.mark.parametrize("feature_set", ["nb", "word_char", "tfidf"])
def test_an_exported_model_predicts_as_fitted_and_holds_only_scikit_learn_types(reviews, feature_set):
    spec = feature_set_specs(FEATURES)[feature_set]
    candidate = Candidate(name="x", feature_set=feature_set, classifier="lr", kind="logistic_regression", params={"C": 1.0})
    train, held_out = reviews.iloc[:200], reviews.iloc[200:]
    steps, x_train = fit_features(spec, train["text"])
    classifier = build_classifier(candidate, spec).fit(x_train, train["label"])
    searched = classifier.predict(transform(steps, held_out["text"]))

    model = as_text_model(*export_model(steps, classifier))

    assert list(model.predict(held_out["text"].tolist())) == list(searched)
    assert skops.io.get_untrusted_types(data=skops.io.dumps(model)) == []


def test_cross_validation_scores_every_candidate_on_every_fold(reviews):
    specs = feature_set_specs(FEATURES)
    search = SearchParams(
        repeats=1, max_rows=None,
        classifiers={"lr": {"kind": "logistic_regression", "params": {"class_weight": "balanced"}}},
        candidates={"nb": ["lr"], "word_char": ["lr"]},
    )
    candidates = expand_candidates(search, ClassifierParams(), specs)

    results = cross_validate(reviews["text"], reviews["label"], candidates, specs, folds=3, seed=0)
    again = cross_validate(reviews["text"], reviews["label"], candidates, specs, folds=3, seed=0)

    assert [r.candidate.name for r in results] == ["bigram+sgd", "tfidf+sgd", "nb+lr", "word_char+lr"]
    assert all(len(r.macro_f1) == 3 and 0.0 < r.macro_f1_mean <= 1.0 for r in results)
    assert all(r.model_size_bytes > 0 and r.fit_seconds > 0 for r in results)
    assert [r.macro_f1 for r in results] == [r.macro_f1 for r in again]  # seeded
    bigram, tfidf = results[0], results[1]
    assert tfidf.coefficients == bigram.coefficients > 0  # the same words, the same model shape


def test_coefficients_count_every_weight_and_intercept_a_model_learned(reviews):
    specs = feature_set_specs(FEATURES)
    candidates = {c.feature_set: c for c in expand_candidates(
        SearchParams(repeats=1, max_rows=None, classifiers={"lr": {"kind": "logistic_regression"}}, candidates={"nb": ["lr"]}),
        ClassifierParams(), specs)}  # fmt: skip
    _, x = fit_features(specs["nb"], reviews["text"])
    words = x.shape[1]

    plain = build_classifier(candidates["tfidf"], specs["tfidf"]).fit(x, reviews["label"])
    weighted = build_classifier(candidates["nb"], specs["nb"]).fit(x, reviews["label"])

    assert count_coefficients(plain) == 3 * words + 3  # a weight per word and class, 3 intercepts
    # one-vs-rest: per class a naive-Bayes ratio per word, a weight per word and an intercept
    assert count_coefficients(weighted) == 3 * (2 * words + 1)


def test_repeated_folds_add_rounds_whose_first_is_the_unrepeated_split(reviews):
    specs = feature_set_specs(FEATURES)
    candidates = expand_candidates(SearchParams(repeats=1, max_rows=None), ClassifierParams(), specs)

    once = cross_validate(reviews["text"], reviews["label"], candidates, specs, folds=3, seed=0)
    twice = cross_validate(reviews["text"], reviews["label"], candidates, specs, folds=3, seed=0, repeats=2)

    for single, repeated in zip(once, twice, strict=True):
        assert len(repeated.macro_f1) == 6
        assert repeated.macro_f1[:3] == single.macro_f1  # the training choice's folds come first
        assert repeated.macro_f1[3:] != single.macro_f1  # the second round is shuffled anew


def test_cross_validation_refuses_a_class_with_fewer_reviews_than_folds(reviews):
    few = reviews[reviews["label"] != "neutral"].head(50)._append(reviews[reviews["label"] == "neutral"].head(2))
    candidates = expand_candidates(SearchParams(repeats=1, max_rows=None), ClassifierParams(), feature_set_specs(FEATURES))

    with pytest.raises(ValueError, match=r"training.search.folds is 5, but class\(es\) neutral"):
        cross_validate(few["text"], few["label"], candidates, feature_set_specs(FEATURES), folds=5, seed=0)


def test_fit_candidate_fits_on_the_given_texts_only(reviews):
    spec = feature_set_specs(FEATURES)["tfidf"]
    candidate = expand_candidates(SearchParams(repeats=1, max_rows=None), ClassifierParams(), feature_set_specs(FEATURES))[1]

    model = as_text_model(*fit_candidate(candidate, spec, reviews["text"], reviews["label"]))

    assert set(model.classes_) == {"negative", "neutral", "positive"}
    assert "zzqx" not in model.named_steps["vectorizer"].vocabulary_
    assert np.mean(model.predict(reviews["text"].tolist()) == reviews["label"].to_numpy()) > 0.9


def test_cross_validation_runs_on_a_stratified_sample_of_at_most_max_rows():
    labels = ["positive"] * 700 + ["negative"] * 200 + ["neutral"] * 100

    rows = cv_rows(labels, max_rows=200, seed=0)

    assert len(rows) == 200 and list(rows) == sorted(set(rows))
    sampled = pd.Series(labels).iloc[rows].value_counts().to_dict()
    assert sampled == {"positive": 140, "negative": 40, "neutral": 20}
    assert list(cv_rows(labels, max_rows=200, seed=0)) == list(rows)  # the same sample each run
    assert list(cv_rows(labels, max_rows=None, seed=0)) == list(range(1000))
    assert list(cv_rows(labels[:150], max_rows=200, seed=0)) == list(range(150))


def test_feature_sets_follow_feature_engineerings_vectorizer_unless_they_name_their_own():
    hashing = FeatureParams(
        vectorizer="hashing", n_features=2**12,
        feature_sets={"sublinear": {"sublinear_tf": True, "min_df": 2, "max_df": 0.9},
                      "learned": {"vectorizer": "counts", "min_df": 2}},
    )  # fmt: skip

    specs = feature_set_specs(hashing)

    assert {name: spec.vectorizer for name, spec in specs.items()} == {
        "bigram": "hashing", "tfidf": "hashing", "sublinear": "hashing", "learned": "counts"
    }
    assert specs["sublinear"].n_features == 2**12 and specs["sublinear"].min_df == 1  # no pruning
    assert specs["learned"].min_df == 2
    _, features = fit_features(specs["sublinear"], ["a good dress", "a bad one"])
    assert features.shape == (2, 2**12)


def test_a_killed_cross_validation_leaves_no_worker_behind():
    """SIGKILL, as a crash or an impatient user does, while folds run in two worker processes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    script = (
        "from review_sentiment.modeling.candidates import expand_candidates\n"
        "from review_sentiment.modeling.features import feature_set_specs\n"
        "from review_sentiment.modeling.search import cross_validate\n"
        "from review_sentiment.params import ClassifierParams, FeatureParams, SearchParams\n"
        "from tests.modeling import star_labeled_reviews\n"
        "reviews = star_labeled_reviews(600, seed=0)\n"
        "specs = feature_set_specs(FeatureParams())\n"
        "candidates = expand_candidates(SearchParams(repeats=1, max_rows=None), ClassifierParams(), specs)\n"
        "while True:\n"
        "    cross_validate(reviews['text'], reviews['label'], candidates, specs, folds=5, seed=0, n_jobs=2, repeats=20)\n"
    )
    run = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    try:
        deadline = time.monotonic() + 60
        while len(psutil.Process(run.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = psutil.Process(run.pid).children(recursive=True)
        assert len(workers) >= 2, "the folds never reached their worker processes"
    finally:
        os.kill(run.pid, signal.SIGKILL)
        run.wait()

    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []
