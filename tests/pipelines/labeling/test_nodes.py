import re

import pytest

import pandas as pd

from review_sentiment.ground_truth.records import item_key, source_sha1
from review_sentiment.labeling.workforces import LabelingError
from review_sentiment.labeling_app.store import ANNOTATION_COLUMNS
from review_sentiment.params import LabelingParams
from review_sentiment.labeling.labeled_set import append_label_round, collect_labeled_set
from review_sentiment.labeling.batch import label_reviews as label_batch

NO_ANNOTATIONS = pd.DataFrame(columns=ANNOTATION_COLUMNS)


def label_all(items, categories, annotations, labeled_lines, params):
    """The labeling pipeline's nodes on a labeled set holding `labeled_lines`: (the output
    manifest after the run, the summary, the histories, the queue, the quality, the new lines)."""
    before = collect_labeled_set({}, labeled_lines, categories, params)
    new, summary, histories, queue, quality = label_batch(items, categories, annotations, before, params)
    _, _, view = append_label_round(before, new, categories, params)
    return view, summary, histories, queue, quality, new


def label_reviews(items, categories, params, annotations=NO_ANNOTATIONS):
    """The output manifest after the labeling nodes ran on an empty labeled set."""
    return label_all(items, categories, annotations, [], params)[0]

CATEGORIES = {
    "document-version": "2018-11-28",
    "labels": [{"label": "positive"}, {"label": "negative"}, {"label": "neutral"}],
}


def manifest(*stars):
    return [
        {"source": f"review {i}", "review_id": f"R{i}", "star_rating": star}
        for i, star in enumerate(stars, start=1)
    ]


def test_star_rating_workforce_writes_ground_truth_output_lines():
    output = label_reviews(manifest(5, 1, 3), CATEGORIES, LabelingParams(job_name="stars-job"))

    first = output[0]
    assert first["source"] == "review 1" and first["review_id"] == "R1"
    assert first["sentiment"] == 0
    metadata = first["sentiment-metadata"]
    assert metadata["class-name"] == "positive"
    assert metadata["human-annotated"] == "no"
    assert metadata["confidence"] == 1.0
    assert metadata["type"] == "groundtruth/text-classification"
    assert metadata["job-name"] == "labeling-job/stars-job"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", metadata["creation-date"])


def test_star_rating_mapping_follows_the_convention():
    output = label_reviews(manifest(1, 2, 3, 4, 5), CATEGORIES, LabelingParams())

    names = [line["sentiment-metadata"]["class-name"] for line in output]
    assert names == ["negative", "negative", "neutral", "positive", "positive"]
    assert [line["sentiment"] for line in output] == [1, 1, 2, 0, 0]


def test_label_attribute_name_is_configurable():
    output = label_reviews(manifest(4), CATEGORIES, LabelingParams(label_attribute="review-mood"))

    assert output[0]["review-mood"] == 0
    assert "review-mood-metadata" in output[0]


def test_missing_star_rating_names_line_and_field():
    items = manifest(5, 4)
    del items[1]["star_rating"]

    with pytest.raises(LabelingError, match=r"line 2 of .*field 'star_rating' is None"):
        label_reviews(items, CATEGORIES, LabelingParams())


def test_empty_text_names_line_and_field():
    items = manifest(5, 4)
    items[0]["source"] = "  "

    with pytest.raises(LabelingError, match=r"line 1 of the input manifest: field 'source' is empty"):
        label_reviews(items, CATEGORIES, LabelingParams())


def test_workforce_classes_must_exist_in_label_categories():
    binary = {"labels": [{"label": "positive"}, {"label": "negative"}]}

    with pytest.raises(LabelingError, match="neutral"):
        label_reviews(manifest(3), binary, LabelingParams())


@pytest.mark.parametrize("name", ["has space", "-leading", "x-metadata", "y-ref", "a_b"])
def test_label_attribute_must_follow_ground_truth_rule(name):
    with pytest.raises(ValueError, match="Ground Truth"):
        LabelingParams(label_attribute=name)


def annotations(rows, items=None, job_name="review-sentiment"):
    """The label store's table for answers (item key, annotator, label) to `items`."""
    items = items or manifest(*[3] * 10)
    texts = {item_key(item): item["source"] for item in items}
    return pd.DataFrame(
        [{"job_name": job_name, "manifest_fingerprint": "f" * 16, "item_key": key,
          "source_sha1": source_sha1(texts[key]), "annotator": who, "class_name": label,
          "seconds": 2.0, "created_at": pd.Timestamp("2026-11-28", tz="UTC") + pd.Timedelta(seconds=n)}
         for n, (key, who, label) in enumerate(rows)],
        columns=ANNOTATION_COLUMNS,
    )


def test_people_workforce_writes_only_items_with_enough_labels():
    items = manifest(5, 1, 3)  # review ids R1, R2, R3
    saved = annotations([("R1", "ana", "positive"), ("R1", "bo", "positive"),
                         ("R2", "ana", "negative")])
    params = LabelingParams(workforce="people", people={"per_item": 2})

    output, summary, _, queue, quality, _ = label_all(items, CATEGORIES, saved, [], params)

    assert [line["review_id"] for line in output] == ["R1"]
    metadata = output[0]["sentiment-metadata"]
    assert metadata["class-name"] == "positive" and metadata["human-annotated"] == "yes"
    assert queue == ["R2", "R3"]
    assert summary == {"items": 3, "labeled_by_people": 1, "labeled_by_machine": 0,
                       "unlabeled": 2, "queued_for_people": 2, "queued_for_more_answers": 0}
    assert {row["annotator"] for row in quality} == {"ana", "bo"}


def test_people_disagreeing_are_consolidated_with_a_confidence_below_one():
    items = manifest(5)
    saved = annotations([("R1", "ana", "positive"), ("R1", "bo", "positive"), ("R1", "cy", "neutral")])

    output = label_reviews(items, CATEGORIES, LabelingParams(workforce="people", people={"per_item": 3}), saved)

    metadata = output[0]["sentiment-metadata"]
    assert metadata["class-name"] == "positive"
    assert 0.5 < metadata["confidence"] < 1.0


def test_people_label_outside_categories_names_item_and_annotator():
    saved = annotations([("R1", "ana", "postive")])

    with pytest.raises(ValueError, match=r"'R1'.*'ana'.*'postive'"):
        label_reviews(manifest(5), CATEGORIES, LabelingParams(workforce="people"), saved)


def test_simulated_workforce_is_marked_as_a_simulation():
    output = label_reviews(manifest(5, 1), CATEGORIES, LabelingParams(workforce="simulated"))

    assert [line["sentiment-metadata"]["class-name"] for line in output] == ["positive", "negative"]
    assert all(line["sentiment-metadata"]["job-name"].endswith("-simulated") for line in output)


def synthetic_manifest(n):
    words = {5: "great lovely superb", 1: "awful broken useless", 3: "okay average fine"}
    stars = [5, 1, 3]
    return [
        {"source": f"{words[stars[i % 3]]} {['phone', 'cable', 'game', 'mouse'][i % 4]} number {i}",
         "review_id": f"R{i}", "star_rating": stars[i % 3]}
        for i in range(n)
    ]


def test_automated_labeling_with_simulated_people_labels_the_rest_by_machine():
    items = synthetic_manifest(900)
    params = LabelingParams(
        workforce="automated",
        automated={"humans": "simulated", "min_items": 300, "initial_batch": 300,
                   "batch_size": 100, "min_validation_items": 30},
    )

    output, summary, iterations, _, _, _ = label_all(items, CATEGORIES, NO_ANNOTATIONS, [], params)

    machine = [line for line in output if line["sentiment-metadata"]["human-annotated"] == "no"]
    assert summary["labeled_by_machine"] == len(machine) > 0
    truth = {1: "negative", 3: "neutral", 5: "positive"}
    correct = sum(line["sentiment-metadata"]["class-name"] == truth[line["star_rating"]] for line in machine)
    assert correct / len(machine) >= 0.95
    assert all(line["sentiment-metadata"]["job-name"].endswith("-simulated") for line in output)
    assert iterations and all(entry["step"] >= 1 for history in iterations.values() for entry in history)


def test_automated_labeling_with_people_queues_the_first_batch_when_nobody_labeled():
    items = synthetic_manifest(400)
    params = LabelingParams(workforce="automated",
                            automated={"humans": "people", "min_items": 300, "initial_batch": 50})

    output, summary, _, queue, _, _ = label_all(items, CATEGORIES, NO_ANNOTATIONS, [], params)

    assert output == []
    assert len(queue) == 50 and len(set(queue)) == 50  # the run waits for that batch
    assert queue[:50] != [f"R{i}" for i in range(50)]  # a random first batch, not the file's head
    assert summary["queued_for_people"] == len(queue)


def test_automated_labeling_keeps_every_label_people_saved():
    items = synthetic_manifest(400)
    params = LabelingParams(workforce="automated",
                            automated={"humans": "people", "min_items": 300, "initial_batch": 50})
    _, _, _, first_batch, _, _ = label_all(items, CATEGORIES, NO_ANNOTATIONS, [], params)
    truth = {1: "negative", 3: "neutral", 5: "positive"}
    by_id = {item["review_id"]: item for item in items}
    # Someone labeled the first batch and, beyond it, one more review on the page.
    extra = next(key for key in reversed(list(by_id)) if key not in first_batch)
    labeled = [*first_batch, extra]
    saved = annotations([(key, "ana", truth[by_id[key]["star_rating"]]) for key in labeled], items)

    output, summary, _, queue, _, _ = label_all(items, CATEGORIES, saved, [], params)

    people = {line["review_id"] for line in output if line["sentiment-metadata"]["human-annotated"] == "yes"}
    assert people == set(labeled)
    # Labeled items are queued again only to ask more people (validation), never as plain keys.
    assert not {entry for entry in queue if isinstance(entry, str)} & people
    assert summary["labeled_by_people"] == len(labeled)


def test_find_label_issues_flags_flipped_labels_for_review():
    items = synthetic_manifest(300)
    output = label_reviews(items, CATEGORIES, LabelingParams(workforce="simulated"))
    flipped = {5, 50, 100, 150, 200}
    for position in flipped:
        metadata = output[position]["sentiment-metadata"]
        metadata["class-name"] = "negative" if metadata["class-name"] != "negative" else "positive"

    from review_sentiment.pipelines.labeling.nodes import find_label_issues

    queue = find_label_issues(output, CATEGORIES, LabelingParams())

    flagged = {row["position"] for row in queue}
    assert flipped <= flagged and len(flagged) <= 10
    assert {row["review_id"] for row in queue} >= {f"R{p}" for p in flipped}


def test_find_label_issues_can_be_switched_off():
    output = label_reviews(synthetic_manifest(60), CATEGORIES, LabelingParams(workforce="simulated"))
    from review_sentiment.pipelines.labeling.nodes import find_label_issues

    assert find_label_issues(output, CATEGORIES, LabelingParams(label_issues={"enabled": False})) == []


def test_switching_workforce_keeps_every_label_already_written():
    # Measured on main before: star_rating wrote every line, then an automated run that nobody
    # had answered yet replaced the output manifest with 0 lines.
    items = synthetic_manifest(400)
    stars = label_reviews(items, CATEGORIES, LabelingParams())
    params = LabelingParams(workforce="automated",
                            automated={"humans": "people", "min_items": 300, "initial_batch": 50})

    output, summary, _, queue, _, new = label_all(items, CATEGORIES, NO_ANNOTATIONS, stars, params)

    assert output == stars and queue == [] and new == []
    assert summary["labeled_by_machine"] == 400


def test_a_person_label_replaces_a_machine_label_and_never_the_other_way():
    items = manifest(5, 1)
    stars = label_reviews(items, CATEGORIES, LabelingParams())  # R1 positive, R2 negative
    saved = annotations([("R1", "ana", "neutral")], items)

    merged = label_all(items, CATEGORIES, saved, stars, LabelingParams(workforce="people"))[0]
    stars_again, *_, new = label_all(items, CATEGORIES, NO_ANNOTATIONS, merged, LabelingParams())

    def who(lines):
        return [(line["sentiment-metadata"]["class-name"], line["sentiment-metadata"]["human-annotated"])
                for line in lines]

    assert who(merged) == [("neutral", "yes"), ("negative", "no")]
    assert merged[1] == stars[1]  # kept as written, creation date included
    assert stars_again == merged  # the star rating neither overrules a person nor re-dates itself
    assert new == []


def test_the_simulated_workforce_follows_the_configured_star_mapping():
    # One star → class mapping: on main before, the simulation kept its own copy (4 → positive).
    params = LabelingParams(workforce="simulated", star_rating={"neutral": [3, 4], "positive": [5]})

    output = label_reviews(manifest(4, 5), CATEGORIES, params)

    assert [line["sentiment-metadata"]["class-name"] for line in output] == ["neutral", "positive"]
