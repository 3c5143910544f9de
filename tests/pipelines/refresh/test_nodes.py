"""The refresh's nodes: new reviews only, label rounds and their digest, the frozen test set."""

import pandas as pd
import pytest

from review_sentiment.ground_truth.categories import label_categories
from review_sentiment.ground_truth.records import Label, item_key, labeled_line, source_sha1
from review_sentiment.labeling.carry import merge_rounds
from review_sentiment.labeling_app.store import ANNOTATION_COLUMNS, LabelStore
from review_sentiment.params import ExtractionParams, LabelingParams, RefreshParams
from review_sentiment.pipelines.data_extraction.nodes import build_input_manifest
from review_sentiment.pipelines.data_extraction.raw_file import RawFile
from review_sentiment.pipelines.refresh.nodes import (
    accumulate_labels,
    collect_label_rounds,
    freeze_test_set,
    label_new_reviews,
    labeled_set_version,
    next_round_name,
    read_arrivals,
    round_sha256,
    select_new_reviews,
)

CLASSES = ["positive", "negative", "neutral"]
EXTRACTION = ExtractionParams(labels=CLASSES)
LABELING = LabelingParams()
NO_ANNOTATIONS = pd.DataFrame(columns=ANNOTATION_COLUMNS)


def arrived(rows):
    """Reviews as read_arrivals returns them: (review_id, text, stars)."""
    return pd.DataFrame(
        [
            {"review_id": rid, "text": text, "star_rating": stars, "product_category": "", "arrival": "a.csv"}
            for rid, text, stars in rows
        ]
    )


def line(text, class_name, *, human=False, review_id=None, workforce="star_rating", day=1):
    item = {"source": text, **({"review_id": review_id} if review_id else {})}
    from datetime import UTC, datetime

    written = labeled_line(
        item, Label(class_name, 1.0, human), attribute="sentiment", classes=CLASSES,
        job_name="review-sentiment", created=datetime(2026, 1, day, tzinfo=UTC),
    )  # fmt: skip
    return {**written, "workforce": workforce}


# --- new reviews ----------------------------------------------------------------------------------


def test_only_reviews_without_a_label_are_new_by_id_and_by_text():
    labeled = [line("Old text <br/>", "positive", review_id="R1"), line("Seen before", "negative")]
    reviews = arrived([
        ("R1", "Edited text, same id", 5),   # its id has a label
        ("", "Seen   before", 1),            # no id: its cleaned text has a label
        ("R2", "Brand new", 4),
        ("", "Also new", 2),
    ])  # fmt: skip

    new, report = select_new_reviews(reviews, labeled, EXTRACTION)

    assert new["text"].tolist() == ["Brand new", "Also new"]
    assert report["new_reviews"] == 2 and report["seen_before"] == 2 and report["reviews_arrived"] == 4


def test_nothing_new_when_every_review_has_a_label():
    labeled = [line("A", "positive", review_id="R1")]

    new, report = select_new_reviews(arrived([("R1", "A", 5), ("R1", "A", 5)]), labeled, EXTRACTION)

    assert new.empty and report["new_reviews"] == 0 and report["seen_before"] == 2


def arrival_file(name, rows):
    """An arrival file as the catalog loads it: the CSV's bytes."""
    text = "review_id,star_rating,review_headline,review_body\n" + "".join(
        f"{rid},{stars},{headline},{body}\n" for rid, stars, headline, body in rows
    )
    return lambda: RawFile(path=f"data/01_raw/arrivals/{name}", content=text.encode())


def test_an_arrival_file_settled_by_a_round_is_not_read_again_until_it_changes():
    one = arrival_file("a.csv", [("R1", 5, "Great", "Works"), ("R2", 1, "Bad", "Broke")])
    arrived_one, skipped_one = read_arrivals({"a.csv": one}, [], EXTRACTION)
    new, _ = select_new_reviews(arrived_one, [], EXTRACTION, skipped_one)
    partition, _, _, _, _, _ = label_new_reviews(
        build_input_manifest(new), label_categories(CLASSES), NO_ANNOTATIONS, {"rounds": {}}, LABELING, new
    )
    labeled = partition["round-0001"]
    grown = arrival_file("a.csv", [("R1", 5, "Great", "Works"), ("R2", 1, "Bad", "Broke"), ("R3", 3, "Ok", "Fine")])

    arrived_two, skipped_two = read_arrivals({"a.csv": one, "b.csv": grown}, labeled, EXTRACTION)
    _, report = select_new_reviews(arrived_two, labeled, EXTRACTION, skipped_two)

    assert all(item["arrival"]["settled"] and item["arrival"]["file"] == "a.csv" for item in labeled)
    assert skipped_two == {"a.csv": 2} and arrived_two["arrival"].unique().tolist() == ["b.csv"]
    assert report["new_reviews"] == 1 and report["seen_before"] == 4 and report["reviews_arrived"] == 5


def test_an_arrival_file_with_reviews_still_waiting_for_people_is_read_again(tmp_path):
    people = LabelingParams(workforce="people")
    one = arrival_file("a.csv", [("R1", 5, "Great", "Works"), ("R2", 1, "Bad", "Broke")])
    arrived_one, skipped_one = read_arrivals({"a.csv": one}, [], EXTRACTION)
    new, _ = select_new_reviews(arrived_one, [], EXTRACTION, skipped_one)
    manifest = build_input_manifest(new)
    with LabelStore(tmp_path / "labels.db") as store:
        store.open_job(people.job_name, manifest).record("R1", "ana", "positive", 2.0)
        annotations = store.annotations()
    partition, _, _, _, _, _ = label_new_reviews(
        manifest, label_categories(CLASSES), annotations, {"rounds": {}}, people, new
    )

    arrived_two, skipped_two = read_arrivals({"a.csv": one}, partition["round-0001"], EXTRACTION)

    assert [item["arrival"]["settled"] for item in partition["round-0001"]] == [False]
    assert skipped_two == {} and arrived_two["review_id"].tolist() == ["R1", "R2"]


# --- label rounds ---------------------------------------------------------------------------------


def test_round_names_count_up_and_sort_in_time_order():
    assert next_round_name([]) == "round-0001"
    assert next_round_name(["round-0001", "round-0009"]) == "round-0010"


def test_the_labeled_set_digest_changes_with_a_round_and_only_then():
    first = {"round-0001": round_sha256([line("A", "positive")])}
    second = {**first, "round-0002": round_sha256([line("B", "negative")])}

    assert labeled_set_version(first, 1)["digest"] == labeled_set_version(dict(first), 1)["digest"]
    assert labeled_set_version(second, 2)["digest"] != labeled_set_version(first, 1)["digest"]


def test_the_digest_of_a_round_read_back_is_the_one_computed_when_written(tmp_path):
    from review_sentiment.datasets import ManifestDataset

    lines = [line("Ünïcode \"quoted\"", "positive"), line("B", "neutral", human=True)]
    dataset = ManifestDataset(filepath=str(tmp_path / "round-0001.manifest"))
    dataset.save(lines)

    labeled, version = collect_label_rounds({"round-0001": dataset.load}, EXTRACTION, LABELING)

    assert version["rounds"] == {"round-0001": round_sha256(lines)}
    assert len(labeled) == 2


def test_rounds_merge_by_the_carry_rule():
    machine_then_person = {"round-0001": [line("A", "positive")], "round-0002": [line("A", "negative", human=True)]}
    person_then_machine = {"round-0001": [line("B", "positive", human=True)], "round-0002": [line("B", "negative")]}

    merged = merge_rounds({**machine_then_person, **{k + "b": v for k, v in person_then_machine.items()}}, CLASSES, "sentiment")

    labels = {item["source"]: item["sentiment-metadata"]["class-name"] for item in merged}
    assert labels == {"A": "negative", "B": "positive"}


def test_accumulating_an_empty_round_keeps_the_version():
    before = [line("A", "positive")]
    version = labeled_set_version({"round-0001": round_sha256(before)}, 1)

    labeled, after = accumulate_labels(before, version, {"round": "round-0002", "lines": []}, EXTRACTION, LABELING)

    assert after == version and labeled == before


def test_a_review_people_labeled_in_round_one_is_never_sent_to_them_again(tmp_path):
    """Round one: people label two of three reviews in the label store. Round two: the same
    arrivals plus one new review. Only the unlabeled one and the new one are in the round's input
    manifest (what the labeling page shows) and in the queue."""
    people = LabelingParams(workforce="people")
    categories = label_categories(CLASSES)
    first = arrived([("", "Lovely dress", 5), ("", "Awful fit", 1), ("", "It is a shirt", 3)])
    new, _ = select_new_reviews(first, [], EXTRACTION)
    manifest_one = build_input_manifest(new)
    with LabelStore(tmp_path / "labels.db") as store:
        job = store.open_job(people.job_name, manifest_one)
        job.record(item_key(manifest_one[0]), "ana", "positive", 2.0)
        job.record(item_key(manifest_one[1]), "ana", "negative", 2.0)
        annotations = store.annotations()
    partition, round_one, _, _, queue_one, _ = label_new_reviews(
        manifest_one, categories, annotations, {"rounds": {}}, people
    )
    assert list(partition) == ["round-0001"] and len(round_one["lines"]) == 2
    assert queue_one == [item_key(manifest_one[2])]

    labeled, version = collect_label_rounds(
        {name: (lambda lines=lines: lines) for name, lines in partition.items()}, EXTRACTION, people
    )
    second = pd.concat([first, arrived([("", "New arrival, great", 5)])], ignore_index=True)
    new_two, report = select_new_reviews(second, labeled, EXTRACTION)
    manifest_two = build_input_manifest(new_two)
    partition_two, _, _, _, queue_two, _ = label_new_reviews(
        manifest_two, categories, annotations, version, people
    )

    labeled_keys = {item_key(item) for item in round_one["lines"]}
    assert report["seen_before"] == 2
    assert {item_key(item) for item in manifest_two} == {source_sha1("It is a shirt"), source_sha1("New arrival, great")}
    assert not labeled_keys & set(queue_two)
    with LabelStore(tmp_path / "labels.db") as store:
        assert not labeled_keys & set(store.open_job(people.job_name, manifest_two).keys())
    assert partition_two == {}  # nobody has answered the new ones yet: no round written


# --- the frozen test set --------------------------------------------------------------------------


def labels_for_test_set(n=40):
    return [line(f"text {i}", CLASSES[i % 3], human=i % 2 == 0, workforce="people" if i % 2 == 0 else "automated") for i in range(n)]


def test_the_test_set_is_drawn_from_trusted_labels_only_and_stratified():
    labeled = labels_for_test_set(60)
    trusted_texts = {item["source"] for item in labeled if item["sentiment-metadata"]["human-annotated"] == "yes"}

    test_set = freeze_test_set(labeled, None, EXTRACTION, LABELING, RefreshParams())

    texts = [item["text"] for item in test_set["items"]]
    assert set(texts) <= trusted_texts and len(texts) == 6
    assert sorted(item["label"] for item in test_set["items"]) == sorted(CLASSES * 2)
    assert len(test_set["fingerprint"]) == 64 and test_set["rotated_from"] is None


def test_the_test_set_stays_frozen_unless_rotated_on_purpose():
    frozen = freeze_test_set(labels_for_test_set(60), None, EXTRACTION, LABELING, RefreshParams())
    more = labels_for_test_set(120)

    kept = freeze_test_set(more, frozen, EXTRACTION, LABELING, RefreshParams())
    rotated = freeze_test_set(more, frozen, EXTRACTION, LABELING, RefreshParams(rotate_test_set=True))

    assert kept == frozen
    assert rotated["fingerprint"] != frozen["fingerprint"] and rotated["rotated_from"] == frozen["fingerprint"]


def test_machine_labels_alone_cannot_make_a_test_set():
    machine = [line(f"t{i}", CLASSES[i % 3], workforce="automated") for i in range(30)]

    with pytest.raises(ValueError, match="0 of 30 labels are trusted"):
        freeze_test_set(machine, None, EXTRACTION, LABELING, RefreshParams())


def test_star_rating_labels_count_as_trusted():
    stars = [line(f"t{i}", CLASSES[i % 3], workforce="star_rating") for i in range(30)]

    assert len(freeze_test_set(stars, None, EXTRACTION, LABELING, RefreshParams())["items"]) == 6


# --- summary --------------------------------------------------------------------------------------


def summarise(new, round_summary, queue, decision=None, deployment=None):
    from review_sentiment.pipelines.refresh.nodes import summarise_refresh

    return summarise_refresh(
        {"arrivals": ["a.csv", "b.csv"], "reviews_arrived": 10, "seen_before": 10 - new, "new_reviews": new},
        {"round": "round-0002", "lines": [{}] * (round_summary["labeled_by_people"]), "summary": round_summary},
        queue,
        {"digest": "d" * 64, "items": 8, "rounds": {"round-0001": "x"}},
        {"items": []},
        {"trained": False, "reason": "no new labels"},
        decision or {"registered": False, "promoted": False, "reason": "no new labels"},
        deployment or {"deployed": False},
        LabelingParams(workforce="people"),
        RefreshParams(),
    )


def test_a_refresh_waiting_for_people_says_what_to_do_next_in_one_line():
    waiting = {"items": 2, "labeled_by_people": 0, "labeled_by_machine": 0, "unlabeled": 2,
               "queued_for_people": 2, "queued_for_more_answers": 0}  # fmt: skip

    summary = summarise(2, waiting, ["k1", "k2"])

    assert summary["line"] == (
        "Refresh: 2 new reviews in 2 arrival files (newest b.csv), none labeled yet: label the 2 "
        "reviews in labeling_queue.json with `make label`, then run again; nothing trained or deployed"
    )
    assert summary["labeling"]["round"] is None


def test_a_refresh_with_nothing_new_says_so_in_one_line():
    nothing = {"items": 0, "labeled_by_people": 0, "labeled_by_machine": 0, "unlabeled": 0,
               "queued_for_people": 0, "queued_for_more_answers": 0}  # fmt: skip

    summary = summarise(0, nothing, [])

    assert summary["line"] == (
        "Refresh: no new reviews in 2 arrival files (newest b.csv) (10 seen before): nothing "
        "labeled, trained or deployed"
    )
