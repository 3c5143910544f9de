import pandas as pd
import pytest

from review_sentiment.datasets import ManifestDataset, ManifestError
from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.params import ColumnMapping, ExtractionParams
from review_sentiment.pipelines.data_extraction.nodes import (
    ReviewDataError,
    build_input_manifest,
    build_label_categories,
    build_worker_instructions,
    clean_reviews,
    clean_text,
    sample_reviews,
    select_review_fields,
    truncate_text,
)

LABELS = ["positive", "negative", "neutral"]


def params(**overrides) -> ExtractionParams:
    return ExtractionParams(labels=LABELS, **overrides)


def test_select_review_fields_joins_headline_and_body(raw_reviews):
    reviews = select_review_fields(raw_reviews, params())

    assert list(reviews.columns) == ["review_id", "text", "star_rating", "product_category"]
    assert reviews.loc[1, "text"] == "Broke. Stopped working after a week"
    assert reviews["star_rating"].tolist() == [5, 1, 3, 4, 5, 2]


def test_select_review_fields_maps_other_column_names():
    fine_food = pd.DataFrame({"Id": [7], "Score": [4], "Summary": ["Tasty"], "Text": ["Good tea"]})
    mapping = ColumnMapping(
        review_id="Id", star_rating="Score", review_headline="Summary", review_body="Text",
        product_category=None,
    )

    reviews = select_review_fields(fine_food, params(columns=mapping))

    assert reviews.iloc[0].to_dict() == {
        "review_id": "7", "text": "Tasty. Good tea", "star_rating": 4, "product_category": "",
    }


def test_select_review_fields_names_the_missing_column_and_the_file(raw_reviews):
    raw = raw_reviews.drop(columns="review_body")
    raw.attrs["source"] = "data/01_raw/reviews.tsv"

    with pytest.raises(ReviewDataError, match=r"data/01_raw/reviews.tsv: missing column 'review_body'"):
        select_review_fields(raw, params())


def test_select_review_fields_names_row_and_field_of_a_bad_star_rating(raw_reviews):
    raw = raw_reviews.assign(star_rating=[5, 1, "three", 4, 5, 2])

    with pytest.raises(ReviewDataError, match=r"row 3 \(review_id 'R3'\), field 'star_rating'"):
        select_review_fields(raw, params())


def test_clean_text_decodes_entities_and_line_breaks():
    assert clean_text("Works &#34;perfectly&#34;.<br /><br />Would&nbsp;buy <b>again</b>") == (
        'Works "perfectly". Would buy again'
    )


def test_clean_reviews_drops_and_counts_empty_and_duplicate_texts(raw_reviews):
    reviews = select_review_fields(raw_reviews, params())

    kept, counts = clean_reviews(reviews, params())

    assert kept["review_id"].tolist() == ["R1", "R2", "R3", "R4"]
    assert counts == {
        "rows_read": 6, "too_long_texts_skipped": 0, "too_long_texts_truncated": 0,
        "empty_texts_dropped": 1, "duplicate_texts_dropped": 1, "rows_kept": 4,
    }
    assert kept.loc[0, "text"] == 'Great. Works "perfectly". Would buy again'


def test_clean_reviews_does_not_change_its_input(raw_reviews):
    reviews = select_review_fields(raw_reviews, params())
    before = reviews.copy()

    clean_reviews(reviews, params())

    pd.testing.assert_frame_equal(reviews, before)


def test_sample_reviews_is_reproducible_and_sized(raw_reviews):
    reviews = select_review_fields(raw_reviews, params())

    first = sample_reviews(reviews, params(sample_size=3, seed=1))
    again = sample_reviews(reviews, params(sample_size=3, seed=1))
    other = sample_reviews(reviews, params(sample_size=3, seed=2))

    assert len(first) == 3
    pd.testing.assert_frame_equal(first, again)
    assert first["review_id"].tolist() != other["review_id"].tolist()


def test_sample_reviews_takes_all_when_fewer_than_asked(raw_reviews):
    reviews = select_review_fields(raw_reviews, params())

    assert len(sample_reviews(reviews, params(sample_size=100))) == len(reviews)


def test_build_input_manifest_keeps_text_id_and_stars(raw_reviews):
    reviews, _ = clean_reviews(select_review_fields(raw_reviews, params()), params())

    manifest = build_input_manifest(reviews)

    assert manifest[1] == {
        "source": "Broke. Stopped working after a week",
        "review_id": "R2",
        "star_rating": 1,
        "product_category": "Electronics",
    }


def test_label_categories_follow_ground_truth_format():
    assert build_label_categories(params()) == {
        "document-version": "2018-11-28",
        "labels": [{"label": "positive"}, {"label": "negative"}, {"label": "neutral"}],
    }


def test_worker_instructions_list_every_label_escaped():
    instructions = build_worker_instructions(params(instructions_title="<b>Rate</b>"))

    assert all(f"<strong>{label}</strong>" in instructions for label in LABELS)
    assert "&lt;b&gt;Rate&lt;/b&gt;" in instructions


def test_duplicate_labels_are_rejected():
    with pytest.raises(ValueError, match="two or more distinct"):
        ExtractionParams(labels=["positive", "positive"])


def with_a_long_review(raw_reviews):
    # 150,023 characters once headline and body are joined: far over Ground Truth's limit
    long_body = " ".join(["lovely"] * 21_430) + " " + "x" * 7
    return pd.concat([raw_reviews, pd.DataFrame([{
        "marketplace": "US", "review_id": "R7", "product_category": "Electronics", "star_rating": 5,
        "review_headline": "Long", "review_body": long_body,
    }])], ignore_index=True)


def test_too_long_text_is_skipped_and_counted_by_default(raw_reviews, caplog):
    reviews = select_review_fields(with_a_long_review(raw_reviews), params())
    assert reviews["text"].str.len().max() == 150_023

    with caplog.at_level("WARNING"):
        kept, counts = clean_reviews(reviews, params())

    assert "R7" not in kept["review_id"].tolist()
    assert (counts["too_long_texts_skipped"], counts["too_long_texts_truncated"]) == (1, 0)
    assert counts["rows_kept"] == 4
    assert any("1 review text(s) are longer than Ground Truth takes (20,000 characters): skipped"
               in record.getMessage() for record in caplog.records)


def test_too_long_text_is_cut_at_a_word_when_truncating(raw_reviews):
    reviews = select_review_fields(with_a_long_review(raw_reviews), params())

    kept, counts = clean_reviews(reviews, params(too_long="truncate"))

    text = kept.set_index("review_id").loc["R7", "text"]
    assert MAX_ATTRIBUTE_CHARS - 200 < len(text) <= MAX_ATTRIBUTE_CHARS
    assert text.startswith("Long. lovely") and text.endswith(" lovely")
    assert (counts["too_long_texts_skipped"], counts["too_long_texts_truncated"]) == (0, 1)


def test_truncate_text_leaves_short_text_alone_and_cuts_a_wordless_one_at_the_limit():
    assert truncate_text("short") == "short"
    assert truncate_text("x" * 30_000) == "x" * MAX_ATTRIBUTE_CHARS


@pytest.mark.parametrize("too_long", ["skip", "truncate"])
def test_extraction_never_writes_a_line_ground_truth_would_refuse(raw_reviews, tmp_path, too_long):
    settings = params(too_long=too_long)
    reviews, _ = clean_reviews(select_review_fields(with_a_long_review(raw_reviews), settings), settings)
    dataset = ManifestDataset(filepath=str(tmp_path / "input.manifest"))

    dataset.save(build_input_manifest(sample_reviews(reviews, settings)))

    assert all(len(line["source"]) <= MAX_ATTRIBUTE_CHARS for line in dataset.load())


def test_build_input_manifest_refuses_a_line_over_the_limits():
    reviews = pd.DataFrame({"review_id": ["R" * 20_001], "text": ["fine"], "star_rating": [5],
                            "product_category": [""]})

    with pytest.raises(ManifestError, match=r"^element 0 of the input manifest \(review_id 'R{40}'\): "
                       r"review_id: 20,001 characters; Ground Truth takes at most 20,000 per attribute$"):
        build_input_manifest(reviews)
