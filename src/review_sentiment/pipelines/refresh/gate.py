"""The refresh's training data (every label so far but the frozen test set's), and after the
training pipeline has chosen a candidate on it: registered with its data as MLflow dataset inputs,
promoted only past the gate on the frozen test set, and deployed only if promoted."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline as SklearnPipeline

from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling.labeled_set import LabeledSet
from review_sentiment.modeling.skipping import NothingToTrain
from review_sentiment.params import (
    DeploymentParams,
    ExtractionParams,
    FeatureParams,
    LabelingParams,
    RefreshParams,
    TrainingParams,
)
from review_sentiment.pipelines.refresh.test_set import test_reviews_of

logger = logging.getLogger(__name__)


def training_split(
    labeled_set: LabeledSet, new_labels: list[dict], test_set: dict, labeling: LabelingParams
) -> tuple[pd.DataFrame | NothingToTrain, pd.DataFrame | NothingToTrain]:
    """Every label so far except the frozen test set's (`text`, `label`), and the frozen test
    set; `NothingToTrain` for both when no new label arrived or the labels have one class."""
    if not new_labels:
        nothing = NothingToTrain("no new labels")
        return nothing, nothing
    metadata = f"{labeling.label_attribute}-metadata"
    held_out = {item["key"] for item in test_set["items"]}
    train = pd.DataFrame(
        [
            {"text": line["source"], "label": line[metadata]["class-name"]}
            for line in labeled_set.lines
            if item_key(line) not in held_out
        ],
        columns=["text", "label"],
    )
    if train["label"].nunique() < 2:
        nothing = NothingToTrain(f"{len(train)} training labels of fewer than 2 classes")
        return nothing, nothing
    return train, test_reviews_of(test_set)


def decide_champion(  # noqa: PLR0913
    model: SklearnPipeline | NothingToTrain,
    selection: dict | NothingToTrain,
    train_reviews: pd.DataFrame | NothingToTrain,
    test_reviews: pd.DataFrame | NothingToTrain,
    test_set: dict,
    labeled_set: LabeledSet,
    extraction: ExtractionParams,
    features: FeatureParams,
    params: RefreshParams,
    training: TrainingParams,
) -> dict[str, Any]:
    """Registers the chosen candidate as a new version, with the labeled set and the frozen test
    set as its run's dataset inputs, and promotes it only if the gate passes (`champion_gate`):
    better on the frozen test set by more than the noise, no class's recall down past the floor.
    Nothing trained, or the same training registered before: no new version."""
    if isinstance(model, NothingToTrain):
        logger.info("Refresh: no candidate (%s): nothing registered", model.reason)
        return {"registered": False, "promoted": False, "reason": model.reason}
    from review_sentiment.champion_gate import judge_candidate
    from review_sentiment.modeling.registration import register_model
    from review_sentiment.registry import log_dataset_input

    labeled_version = labeled_set.version
    log_dataset_input(
        train_reviews, name="labeled_set", context="training",
        source=f"label_rounds:{','.join(labeled_version['rounds'])}", digest=labeled_version["digest"],
    )  # fmt: skip
    log_dataset_input(
        test_reviews, name="frozen_test_set", context="test", source="refresh_test_set",
        digest=test_set["fingerprint"],
    )  # fmt: skip

    def gate(truth, predicted, champion):
        return judge_candidate(
            truth, predicted, champion, list(extraction.labels),
            significance=params.gate.significance, max_recall_drop=params.gate.max_recall_drop,
        )  # fmt: skip

    record = register_model(
        model, selection, train_reviews, test_reviews, features, training,
        gate=gate,
        tags={"labeled_set_sha256": labeled_version["digest"],
              "labeled_set_rounds": ",".join(labeled_version["rounds"])},
    )  # fmt: skip
    if not record["registered"]:
        record["reason"] = f"the same training is v{record['version']}"
    return record


def candidate_facts(
    selection: dict | NothingToTrain,
    train_reviews: pd.DataFrame | NothingToTrain,
    test_reviews: pd.DataFrame | NothingToTrain,
    bigram_metrics: dict | NothingToTrain,
    tfidf_metrics: dict | NothingToTrain,
    chosen_metrics: dict | NothingToTrain,
) -> dict[str, Any]:
    """The candidate for the summary: trained or why not, what was chosen, and the original two
    models' and the chosen one's scores on the frozen test set."""
    if isinstance(selection, NothingToTrain):
        return {"trained": False, "reason": selection.reason}
    return {
        "trained": True,
        "selection": selection,
        "metrics": {"bigram": bigram_metrics, "tfidf": tfidf_metrics, "chosen": chosen_metrics},
        "train_size": len(train_reviews),
        "test_size": len(test_reviews),
    }


def redeploy_if_promoted(decision: dict, test_set: dict, params: DeploymentParams) -> dict:
    """Deploys the champion (`deploy_champion`: the local scoring server or SageMaker) and
    smoke-tests it, only if this refresh moved the champion; otherwise deploys nothing."""
    if not decision.get("promoted"):
        logger.info("Refresh: the champion did not change: nothing deployed")
        return {"deployed": False}
    from review_sentiment.serving.deploy import deploy_champion

    result = deploy_champion(decision, test_reviews_of(test_set), params)
    return {**result, "deployed": True}
