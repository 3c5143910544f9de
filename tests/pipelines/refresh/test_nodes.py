"""The refresh's nodes: new reviews only, this round's labels, the frozen test set, the summary."""

import pandas as pd
import pytest

from review_sentiment.ground_truth.categories import label_categories
from review_sentiment.ground_truth.records import Label, item_key, labeled_line, source_sha1
from review_sentiment.labeling.labeled_set import LabeledSet
from review_sentiment.labeling_app.store import ANNOTATION_COLUMNS, LabelStore
from review_sentiment.params import ExtractionParams, LabelingParams, RefreshParams
from review_sentiment.reviews.manifest import build_input_manifest
from review_sentiment.datasets.raw_file import RawFile
from review_sentiment.pipelines.refresh.arrivals import label_new_reviews, read_arrivals, select_new_reviews
from review_sentiment.pipelines.refresh.test_set import freeze_test_set

CLASSES = ["positive", "negative", "neutral"]
EXTRACTION = ExtractionParams(labels=CLASSES)
LABELING = LabelingParams()
NO_ANNOTATIONS = pd.DataFrame(columns=ANNOTATION_COLUMNS)
NOTHING = LabeledSet([], {})


def labeled(lines):
    """A labeled set holding `lines`, as `collect_labeled_set` gives it."""
    return LabeledSet(list(lines), {"round-0001": "sha"})


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
    earlier = [line("Old text <br/>", "positive", review_id="R1"), line("Seen before", "negative")]
    reviews = arrived([
        ("R1", "Edited text, same id", 5),   # its id has a label
        ("", "Seen   before", 1),            # no id: its cleaned text has a label
        ("R2", "Brand new", 4),
        ("", "Also new", 2),
    ])  # fmt: skip

    new, report = select_new_reviews(reviews, labeled(earlier), EXTRACTION)

    assert new["text"].tolist() == ["Brand new", "Also new"]
    assert report["new_reviews"] == 2 and report["seen_before"] == 2 and report["reviews_arrived"] == 4


def test_nothing_new_when_every_review_has_a_label():
    earlier = labeled([line("A", "positive", review_id="R1")])

    new, report = select_new_reviews(arrived([("R1", "A", 5), ("R1", "A", 5)]), earlier, EXTRACTION)

    assert new.empty and report["new_reviews"] == 0 and report["seen_before"] == 2


def arrival_file(name, rows):
    """An arrival file as the catalog loads it: the CSV's bytes."""
    text = "review_id,star_rating,review_headline,review_body\n" + "".join(
        f"{rid},{stars},{headline},{body}\n" for rid, stars, headline, body in rows
    )
    return lambda: RawFile(path=f"data/01_raw/arrivals/{name}", content=text.encode())


def test_an_arrival_file_settled_by_a_round_is_not_read_again_until_it_changes():
    one = arrival_file("a.csv", [("R1", 5, "Great", "Works"), ("R2", 1, "Bad", "Broke")])
    arrived_one, skipped_one = read_arrivals({"a.csv": one}, NOTHING, EXTRACTION)
    new, _ = select_new_reviews(arrived_one, NOTHING, EXTRACTION, skipped_one)
    round_one, *_ = label_new_reviews(
        build_input_manifest(new), label_categories(CLASSES), NO_ANNOTATIONS, NOTHING, LABELING, new
    )
    grown = arrival_file("a.csv", [("R1", 5, "Great", "Works"), ("R2", 1, "Bad", "Broke"), ("R3", 3, "Ok", "Fine")])

    arrived_two, skipped_two = read_arrivals({"a.csv": one, "b.csv": grown}, labeled(round_one), EXTRACTION)
    _, report = select_new_reviews(arrived_two, labeled(round_one), EXTRACTION, skipped_two)

    assert all(item["arrival"]["settled"] and item["arrival"]["file"] == "a.csv" for item in round_one)
    assert skipped_two == {"a.csv": 2} and arrived_two["arrival"].unique().tolist() == ["b.csv"]
    assert report["new_reviews"] == 1 and report["seen_before"] == 4 and report["reviews_arrived"] == 5


def test_an_arrival_file_with_reviews_still_waiting_for_people_is_read_again(tmp_path):
    people = LabelingParams(workforce="people")
    one = arrival_file("a.csv", [("R1", 5, "Great", "Works"), ("R2", 1, "Bad", "Broke")])
    arrived_one, skipped_one = read_arrivals({"a.csv": one}, NOTHING, EXTRACTION)
    new, _ = select_new_reviews(arrived_one, NOTHING, EXTRACTION, skipped_one)
    manifest = build_input_manifest(new)
    with LabelStore(tmp_path / "labels.db") as store:
        store.open_job(people.job_name, manifest).record("R1", "ana", "positive", 2.0)
        annotations = store.annotations()
    round_one, *_ = label_new_reviews(manifest, label_categories(CLASSES), annotations, NOTHING, people, new)

    arrived_two, skipped_two = read_arrivals({"a.csv": one}, labeled(round_one), EXTRACTION)

    assert [item["arrival"]["settled"] for item in round_one] == [False]
    assert skipped_two == {} and arrived_two["review_id"].tolist() == ["R1", "R2"]


# --- this round's labels ------------------------------------------------------------------------


def test_a_review_people_labeled_in_round_one_is_never_sent_to_them_again(tmp_path):
    """Round one: people label two of three reviews in the label store. Round two: the same
    arrivals plus one new review. Only the unlabeled one and the new one are in the round's input
    manifest (what the labeling page shows) and in the queue."""
    people = LabelingParams(workforce="people")
    categories = label_categories(CLASSES)
    first = arrived([("", "Lovely dress", 5), ("", "Awful fit", 1), ("", "It is a shirt", 3)])
    new, _ = select_new_reviews(first, NOTHING, EXTRACTION)
    manifest_one = build_input_manifest(new)
    with LabelStore(tmp_path / "labels.db") as store:
        job = store.open_job(people.job_name, manifest_one)
        job.record(item_key(manifest_one[0]), "ana", "positive", 2.0)
        job.record(item_key(manifest_one[1]), "ana", "negative", 2.0)
        annotations = store.annotations()
    round_one, _, _, queue_one, _ = label_new_reviews(manifest_one, categories, annotations, NOTHING, people)
    assert len(round_one) == 2
    assert queue_one == [item_key(manifest_one[2])]

    second = pd.concat([first, arrived([("", "New arrival, great", 5)])], ignore_index=True)
    new_two, report = select_new_reviews(second, labeled(round_one), EXTRACTION)
    manifest_two = build_input_manifest(new_two)
    round_two, _, _, queue_two, _ = label_new_reviews(
        manifest_two, categories, annotations, labeled(round_one), people
    )

    labeled_keys = {item_key(item) for item in round_one}
    assert report["seen_before"] == 2
    assert {item_key(item) for item in manifest_two} == {source_sha1("It is a shirt"), source_sha1("New arrival, great")}
    assert not labeled_keys & set(queue_two)
    with LabelStore(tmp_path / "labels.db") as store:
        assert not labeled_keys & set(store.open_job(people.job_name, manifest_two).keys())
    assert round_two == []  # nobody has answered the new ones yet: nothing new


# --- the frozen test set --------------------------------------------------------------------------


def labels_for_test_set(n=40):
    return [line(f"text {i}", CLASSES[i % 3], human=i % 2 == 0, workforce="people" if i % 2 == 0 else "automated") for i in range(n)]


def test_the_test_set_is_drawn_from_trusted_labels_only_and_stratified():
    lines = labels_for_test_set(60)
    trusted_texts = {item["source"] for item in lines if item["sentiment-metadata"]["human-annotated"] == "yes"}

    test_set = freeze_test_set(labeled(lines), None, EXTRACTION, LABELING, RefreshParams())

    texts = [item["text"] for item in test_set["items"]]
    assert set(texts) <= trusted_texts and len(texts) == 6
    assert sorted(item["label"] for item in test_set["items"]) == sorted(CLASSES * 2)
    assert len(test_set["fingerprint"]) == 64 and test_set["rotated_from"] is None


def test_the_test_set_stays_frozen_unless_rotated_on_purpose():
    frozen = freeze_test_set(labeled(labels_for_test_set(60)), None, EXTRACTION, LABELING, RefreshParams())
    more = labeled(labels_for_test_set(120))

    kept = freeze_test_set(more, frozen, EXTRACTION, LABELING, RefreshParams())
    rotated = freeze_test_set(more, frozen, EXTRACTION, LABELING, RefreshParams(rotate_test_set=True))

    assert kept == frozen
    assert rotated["fingerprint"] != frozen["fingerprint"] and rotated["rotated_from"] == frozen["fingerprint"]


def test_machine_labels_alone_cannot_make_a_test_set():
    machine = [line(f"t{i}", CLASSES[i % 3], workforce="automated") for i in range(30)]

    with pytest.raises(ValueError, match="0 of 30 labels are trusted"):
        freeze_test_set(labeled(machine), None, EXTRACTION, LABELING, RefreshParams())


def test_star_rating_labels_count_as_trusted():
    stars = [line(f"t{i}", CLASSES[i % 3], workforce="star_rating") for i in range(30)]

    assert len(freeze_test_set(labeled(stars), None, EXTRACTION, LABELING, RefreshParams())["items"]) == 6


# --- summary --------------------------------------------------------------------------------------


def summarise(new, round_summary, queue, decision=None, deployment=None):
    from review_sentiment.pipelines.refresh.summary import summarise_refresh

    return summarise_refresh(
        {"arrivals": ["a.csv", "b.csv"], "reviews_arrived": 10, "seen_before": 10 - new, "new_reviews": new},
        [{}] * round_summary["labeled_by_people"],
        round_summary,
        queue,
        LabeledSet([{}] * 8, {"round-0001": "x"}),
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
