"""The seed notebook's work as one plain script, the baseline of `pipeline_overhead.py`.

Same steps and settings as `kedro run` of extraction → labeling → features → training, with no
framework: pandas reads and cleans the reviews, star ratings become labels, the output manifest
is written as JSON lines, Spark reads it back, scikit-learn fits both models, MLflow logs them
and registers the better one.

Usage: python bench/plain_seed.py RAW_CSV WORK_DIR
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import pandas as pd
from mlflow.models import infer_signature
from pyspark.sql import SparkSession
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from review_sentiment.pipelines.data_extraction.nodes import clean_text

STARS = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
CLASSES = ["positive", "negative", "neutral"]


def main(raw_csv: str, work_dir: str) -> None:
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlruns.db'}")
    if mlflow.get_experiment_by_name("plain") is None:
        mlflow.create_experiment("plain", artifact_location=(work / "mlartifacts").as_uri())
    mlflow.set_experiment("plain")

    raw = pd.read_csv(raw_csv)
    text = (raw["review_headline"].fillna("") + ". " + raw["review_body"].fillna("")).map(clean_text)
    reviews = pd.DataFrame({"review_id": raw["review_id"], "text": text, "star_rating": raw["star_rating"]})
    reviews = reviews[reviews["text"] != ""].drop_duplicates("text")

    created = datetime.now(UTC).replace(tzinfo=None).isoformat()
    manifest = work / "output.manifest"
    with manifest.open("w") as out:
        for row in reviews.itertuples(index=False):
            label = STARS[int(row.star_rating)]
            line = {
                "source": row.text,
                "review_id": row.review_id,
                "star_rating": int(row.star_rating),
                "sentiment": CLASSES.index(label),
                "sentiment-metadata": {
                    "class-name": label, "confidence": 1.0, "human-annotated": "no",
                    "creation-date": created, "type": "groundtruth/text-classification",
                    "job-name": "labeling-job/plain",
                },
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master("local[*]").appName("plain")
        .config("spark.driver.memory", "4g").config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate()
    )
    frame = (
        spark.read.json(str(manifest))
        .selectExpr("source AS text", "`sentiment-metadata`.`class-name` AS label")
        .toPandas()
    )
    spark.stop()

    train, test = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["label"])
    vectorizer = CountVectorizer(ngram_range=(1, 2))
    train_counts = vectorizer.fit_transform(train["text"])
    test_counts = vectorizer.transform(test["text"])
    tfidf = TfidfTransformer()
    train_tfidf = tfidf.fit_transform(train_counts)
    test_tfidf = tfidf.transform(test_counts)

    with mlflow.start_run():
        scores, models = {}, {}
        for name, (train_x, test_x, steps) in {
            "bigram": (train_counts, test_counts, [("vectorizer", vectorizer)]),
            "tfidf": (train_tfidf, test_tfidf, [("vectorizer", vectorizer), ("tfidf", tfidf)]),
        }.items():
            classifier = SGDClassifier(random_state=42).fit(train_x, train["label"])
            # As in the pipeline: metrics and a confusion matrix for each model and split.
            for split, x, truth in (("train", train_x, train["label"]), ("test", test_x, test["label"])):
                predicted = classifier.predict(x)
                f1 = f1_score(truth, predicted, average="macro")
                mlflow.log_metrics(
                    {f"{name}_{split}.accuracy": accuracy_score(truth, predicted),
                     f"{name}_{split}.macro_f1": f1}
                )
                figure, axes = plt.subplots(figsize=(5, 4))
                ConfusionMatrixDisplay.from_predictions(truth, predicted, ax=axes, colorbar=False)
                mlflow.log_figure(figure, f"{name}_{split}_confusion_matrix.png")
                plt.close(figure)
            scores[name] = f1
            models[name] = Pipeline([*steps, ("classifier", classifier)])
        best = max(scores, key=scores.get)
        examples = test["text"].head(3).tolist()
        info = mlflow.sklearn.log_model(
            models[best], name="model", registered_model_name="plain-review-sentiment",
            signature=infer_signature(examples, models[best].predict(examples)),
            input_example=examples,
        )
        mlflow.MlflowClient().set_registered_model_alias(
            "plain-review-sentiment", "champion", info.registered_model_version
        )
    print(json.dumps({"rows": len(frame), "macro_f1": scores, "best": best}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
