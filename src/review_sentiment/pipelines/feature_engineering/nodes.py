"""Labeled manifest → train/test texts → the two feature sets (bigram counts, bigram TF-IDF)."""

from __future__ import annotations

import logging

import pandas as pd
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.model_selection import train_test_split

from review_sentiment.ground_truth.categories import label_classes
from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.spark_reader import parse_output_manifest
from review_sentiment.params import FeatureParams

logger = logging.getLogger(__name__)

_ERRORS_SHOWN = 5


def read_labeled_reviews(
    manifest_lines: SparkDataFrame, label_categories: dict, params: FeatureParams
) -> pd.DataFrame:
    """Text and class name of every line of the output manifest, as a pandas frame.

    Spark parses and checks the lines; only the two columns the models need reach pandas.

    Raises:
        ManifestError: naming file, line and field of the first bad lines (up to five).
    """
    classes = label_classes(label_categories)
    parsed = parse_output_manifest(manifest_lines, multilabel=params.multilabel)
    checked = parsed.select(
        "file",
        "line",
        F.col("source").alias("text"),
        F.col("class_name").alias("label"),
        F.coalesce(
            "error",
            F.when(
                F.col("source").isNull() & F.col("source_ref").isNotNull(),
                F.lit("field 'source' is missing: text must be inline, source-ref is not fetched"),
            ),
            F.when(
                F.coalesce(F.trim("source"), F.lit("")) == "", F.lit("field 'source' is empty")
            ),
            F.when(
                ~F.col("class_name").isin(classes),
                F.concat(
                    F.lit("label '"),
                    F.col("class_name"),
                    F.lit(f"' is not one of {', '.join(classes)}"),
                ),
            ),
        ).alias("error"),
    ).cache()
    try:
        bad = checked.where(F.col("error").isNotNull()).orderBy("file", "line").limit(_ERRORS_SHOWN).collect()
        if bad:
            raise ManifestError(
                "; ".join(f"line {row.line} of {row.file}: {row.error}" for row in bad)
            )
        labeled = checked.select("text", "label").toPandas()
    finally:
        checked.unpersist()
    if labeled.empty:
        raise ManifestError("the output manifest has no labeled lines")
    logger.info("Read %d labeled reviews: %s", len(labeled), labeled["label"].value_counts().to_dict())
    return labeled


def split_reviews(
    labeled_reviews: pd.DataFrame, params: FeatureParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reproducible train/test split, stratified by label."""
    counts = labeled_reviews["label"].value_counts()
    too_few = counts[counts < 2]
    if not too_few.empty:
        raise ValueError(
            f"cannot stratify: label(s) {', '.join(too_few.index)} have fewer than 2 reviews "
            f"({too_few.to_dict()}); label more reviews or drop the class"
        )
    train, test = train_test_split(
        labeled_reviews,
        test_size=params.test_size,
        random_state=params.seed,
        stratify=labeled_reviews["label"],
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def build_bigram_features(
    train_reviews: pd.DataFrame, test_reviews: pd.DataFrame, params: FeatureParams
) -> tuple[CountVectorizer, csr_matrix, csr_matrix]:
    """Word uni- and bigram counts, the vocabulary fitted on the training texts only."""
    vectorizer = CountVectorizer(
        ngram_range=tuple(params.ngram_range), min_df=params.min_df, lowercase=params.lowercase
    )
    train_features = vectorizer.fit_transform(train_reviews["text"])
    test_features = vectorizer.transform(test_reviews["text"])
    logger.info("Bigram vocabulary: %d terms", len(vectorizer.vocabulary_))
    return vectorizer, train_features, test_features


def build_tfidf_features(
    train_counts: csr_matrix, test_counts: csr_matrix
) -> tuple[TfidfTransformer, csr_matrix, csr_matrix]:
    """TF-IDF weights over the bigram counts, the document frequencies fitted on train only."""
    transformer = TfidfTransformer()
    return transformer, transformer.fit_transform(train_counts), transformer.transform(test_counts)
