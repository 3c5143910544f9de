"""Texts → features, for every feature set the project has: the original workflow's bigram counts
and bigram TF-IDF (learned or hashed vocabulary) and the search's word, char and naive-Bayes sets.
feature_engineering, cross-validation and the final fit all build features here, from one spec
(`FeatureSetSpec`), so a candidate in the search is the model the pipeline then fits.

Everything fitted is a scikit-learn type (the registry stores models with skops, which trusts
only those); counts are float32, which the classifiers and TF-IDF keep without a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
)
from sklearn.pipeline import FeatureUnion, Pipeline

from review_sentiment.params import FeatureParams, FeatureSetSpec
from review_sentiment.params.model_search import ORIGINAL_FEATURE_SETS

Vectorizer = CountVectorizer | HashingVectorizer


def original_feature_sets(params: FeatureParams) -> dict[str, FeatureSetSpec]:
    """The original workflow's two feature sets, from feature_engineering's own settings: word
    n-gram counts (`bigram`) and TF-IDF over the same counts (`tfidf`)."""
    common: dict[str, Any] = {
        "word_ngrams": tuple(params.ngram_range),
        "vectorizer": params.vectorizer,
        "lowercase": params.lowercase,
        "seed": params.seed,
    }
    if params.vectorizer == "hashing":
        common["n_features"] = params.n_features
    else:
        common.update(
            min_df=params.min_df,
            max_features=params.max_features,
            vocabulary_sample_size=params.vocabulary_sample_size,
        )
    return {
        "bigram": FeatureSetSpec(weighting="counts", **common),
        "tfidf": FeatureSetSpec(weighting="tfidf", **common),
    }


def feature_set_specs(params: FeatureParams) -> dict[str, FeatureSetSpec]:
    """Every named feature set: the original two and `feature_engineering.feature_sets`.

    Raises:
        ValueError: `feature_sets` redefines bigram or tfidf.
    """
    redefined = sorted(set(ORIGINAL_FEATURE_SETS) & set(params.feature_sets))
    if redefined:
        raise ValueError(
            f"feature_engineering.feature_sets.{redefined[0]}: the name is one of the original "
            f"workflow's feature sets ({', '.join(ORIGINAL_FEATURE_SETS)}); give it another name"
        )
    return {
        **original_feature_sets(params),
        **{name: _following(spec, params) for name, spec in params.feature_sets.items()},
    }


def _following(spec: FeatureSetSpec, params: FeatureParams) -> FeatureSetSpec:
    """`spec` with feature_engineering's vectorizer and column count where it names none; with
    hashing, the pruning of a learned vocabulary (min_df, max_df, …) does not apply."""
    update: dict[str, Any] = {}
    if spec.vectorizer is None:
        update["vectorizer"] = params.vectorizer
        if params.vectorizer == "hashing":
            update.update(min_df=1, max_df=1.0, max_features=None, vocabulary_sample_size=None)
    if spec.n_features is None:
        update["n_features"] = params.n_features
    return spec.model_copy(update=update)


def _parts(spec: FeatureSetSpec) -> list[tuple[str, str, tuple[int, int]]]:
    """(part name, analyzer, n-gram range) of each part of the feature set."""
    parts = []
    if spec.word_ngrams is not None:
        parts.append(("word", "word", tuple(spec.word_ngrams)))
    if spec.char_ngrams is not None:
        parts.append(("char", "char_wb", tuple(spec.char_ngrams)))
    return parts


def _vectorizer(spec: FeatureSetSpec, analyzer: str, ngrams: tuple[int, int]) -> Vectorizer:
    if spec.vectorizer == "hashing":
        return HashingVectorizer(
            analyzer=analyzer,
            ngram_range=ngrams,
            lowercase=spec.lowercase,
            binary=spec.binary,
            n_features=spec.n_features or FeatureParams.model_fields["n_features"].default,
            alternate_sign=False,  # counts, as CountVectorizer gives, not signed sums
            norm=None,  # raw counts; TF-IDF normalises its own
            dtype=np.float32,
        )
    return CountVectorizer(
        analyzer=analyzer,
        ngram_range=ngrams,
        min_df=spec.min_df,
        max_df=spec.max_df,
        max_features=spec.max_features,
        lowercase=spec.lowercase,
        binary=spec.binary,
        dtype=np.float32,
    )


def vectorizer_key(spec: FeatureSetSpec) -> tuple:
    """What a feature set's counts depend on: feature sets with the same key share their
    counts (the original bigram and tfidf sets differ only in the weighting)."""
    return tuple(
        (name, getattr(spec, name))
        for name in ("word_ngrams", "char_ngrams", "vectorizer", "binary", "min_df", "max_df",
                     "max_features", "vocabulary_sample_size", "n_features", "lowercase", "seed")
    )  # fmt: skip


def fit_counts(spec: FeatureSetSpec, texts: Sequence[str]) -> tuple[list[Vectorizer], list[sp.csr_matrix]]:
    """Each part's vectorizer fitted on `texts` (its vocabulary learned from a seeded sample of
    `vocabulary_sample_size` of them when set), and the counts of `texts`."""
    texts = list(texts)
    vectorizers, counts = [], []
    for _, analyzer, ngrams in _parts(spec):
        vectorizer = _vectorizer(spec, analyzer, ngrams)
        sample = spec.vocabulary_sample_size
        if isinstance(vectorizer, HashingVectorizer):
            matrix = vectorizer.transform(texts)
        elif sample is not None and sample < len(texts):
            chosen = np.random.default_rng(spec.seed).choice(len(texts), size=sample, replace=False)
            vectorizer.fit([texts[i] for i in np.sort(chosen)])
            matrix = vectorizer.transform(texts)
        else:
            matrix = vectorizer.fit_transform(texts)
        vectorizers.append(vectorizer)
        counts.append(sp.csr_matrix(matrix))
    return vectorizers, counts


def fit_weighting(spec: FeatureSetSpec, counts: sp.csr_matrix) -> tuple[TfidfTransformer | None, sp.csr_matrix]:
    """The weighting of one part fitted on its training counts, and the weighted counts.

    A column no training text has (with hashing: a term first met in a test or served text)
    gets idf 0, as an unknown term is dropped by a learned vocabulary: left at the highest idf
    it would take most of a text's L2 norm from the terms the classifier knows. nb's ratio is
    fitted per class by the classifier (`candidates.build_classifier`), not here.
    """
    if spec.weighting == "tfidf":
        transformer = TfidfTransformer(sublinear_tf=spec.sublinear_tf).fit(counts)
        unseen = np.bincount(counts.indices, minlength=counts.shape[1]) == 0
        if unseen.any():
            transformer.idf_ = np.where(unseen, 0.0, transformer.idf_)
        return transformer, transformer.transform(counts)
    if spec.sublinear_tf:  # 1 + log(count), without idf or normalising
        transformer = TfidfTransformer(use_idf=False, norm=None, sublinear_tf=True).fit(counts)
        return transformer, transformer.transform(counts)
    return None, counts


def fit_features(
    spec: FeatureSetSpec,
    texts: Sequence[str],
    counts: tuple[list[Vectorizer], list[sp.csr_matrix]] | None = None,
) -> tuple[list[tuple[str, Any]], sp.csr_matrix]:
    """The feature set fitted on `texts`: its fitted steps (texts → features, for a text model)
    and the features of `texts`. `counts` reuses what `fit_counts` returned for a feature set
    with the same `vectorizer_key`."""
    vectorizers, matrices = counts if counts is not None else fit_counts(spec, texts)
    parts, features = [], []
    for (name, _, _), vectorizer, matrix in zip(_parts(spec), vectorizers, matrices, strict=True):
        transformer, weighted = fit_weighting(spec, matrix)
        steps = [("vectorizer", vectorizer)]
        if transformer is not None:
            steps.append(("tfidf" if spec.weighting == "tfidf" else "log_tf", transformer))
        parts.append((name, steps))
        features.append(weighted)
    if len(parts) == 1:
        return parts[0][1], features[0]
    union = FeatureUnion([(name, Pipeline(steps)) for name, steps in parts])
    return [("features", union)], sp.hstack(features, format="csr")


def transform(steps: Sequence[tuple[str, Any]], texts: Sequence[str]) -> sp.csr_matrix:
    """Features of `texts` through fitted steps from `fit_features`."""
    matrix = list(texts)
    for _, step in steps:
        matrix = step.transform(matrix)
    return sp.csr_matrix(matrix)
