import bz2
import gzip
import logging

import pandas as pd
import pytest
from pydantic import ValidationError

from review_sentiment.datasets import ManifestDataset, ManifestError
from review_sentiment.datasets.raw_file import RawFile
from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.ground_truth.records import item_key, source_sha1
from review_sentiment.params import ColumnMapping, ExtractionParams
from review_sentiment.pipelines.data_extraction.nodes import (
    ReviewDataError,
    build_input_manifest,
    build_label_categories,
    build_worker_instructions,
    clean_reviews,
    clean_text,
    parse_raw_reviews,
    sample_reviews,
    select_review_fields,
    truncate_text,
)

LABELS = ["positive", "negative", "neutral"]

# A Women's E-Commerce Clothing Reviews file as Kaggle ships it: an unnamed index column, no
# review id, an empty Title, a line break inside a quoted text.
WOMENS_CLOTHING = (
    ",Clothing ID,Age,Title,Review Text,Rating,Recommended IND,Positive Feedback Count,"
    "Division Name,Department Name,Class Name\n"
    '0,767,33,,"Silky and sexy, and comfortable",4,1,0,Initmates,Intimate,Intimates\n'
    '2,1077,60,Some major design flaws,"Too small.\nThe zipper sticks",2,0,0,General,Dresses,Dresses\n'
)


def params(**overrides) -> ExtractionParams:
    return ExtractionParams(labels=LABELS, **overrides)


def raw_file(name: str, text: str, compress=None) -> RawFile:
    content = text.encode("utf-8")
    return RawFile(path=f"data/01_raw/{name}", content=compress(content) if compress else content)


def amazon_tsv(raw_reviews: pd.DataFrame) -> str:
    return raw_reviews.to_csv(sep="\t", index=False)


@pytest.mark.parametrize(
    ("name", "compress"),
    [("reviews.tsv", None), ("reviews.tsv.gz", gzip.compress), ("reviews.TSV.bz2", bz2.compress)],
)
def test_parse_raw_reviews_takes_tab_from_a_tsv_name_compressed_or_not(raw_reviews, name, compress, caplog):
    with caplog.at_level(logging.INFO):
        table = parse_raw_reviews(raw_file(name, amazon_tsv(raw_reviews), compress), params())

    assert list(table.columns) == list(raw_reviews.columns)
    assert table["review_body"].tolist() == raw_reviews["review_body"].tolist()
    assert f"tab-separated (from the name {name})" in caplog.text


def test_parse_raw_reviews_keeps_line_breaks_in_quoted_texts_and_ids_and_texts_as_written():
    text = WOMENS_CLOTHING + '3,0042,41,NA,None,5,1,0,General,Tops,Knits\n'

    table = parse_raw_reviews(raw_file("clothing.csv.gz", text, gzip.compress), params())

    assert len(table) == 3
    assert table.loc[1, "Review Text"] == "Too small.\nThe zipper sticks"
    assert table.loc[2, ["Clothing ID", "Title", "Review Text"]].tolist() == ["0042", "NA", "None"]
    assert table.loc[0, "Title"] == ""
    assert table.attrs["source"] == "data/01_raw/clothing.csv.gz (dataset raw_reviews)"


def test_parse_raw_reviews_reads_the_separator_from_the_header_when_the_name_does_not_say(raw_reviews):
    gzipped = raw_file("export", amazon_tsv(raw_reviews), gzip.compress)  # gzip told by its bytes

    table = parse_raw_reviews(gzipped, params())

    assert "review_body" in table.columns and len(table) == 6


@pytest.mark.parametrize("separator", ["semicolon", ";"])
def test_parse_raw_reviews_takes_the_separator_setting_over_the_name(separator):
    text = "Id;Score;Summary;Text\n7;4;Tasty;Good, strong tea\n"

    table = parse_raw_reviews(raw_file("reviews.csv", text), params(separator=separator))

    assert table.loc[0, "Text"] == "Good, strong tea"


def test_parse_raw_reviews_names_the_file_and_the_setting_when_it_cannot_read_it():
    broken = RawFile(path="s3://bucket/01_raw/reviews.csv.gz", content=b"\x1f\x8bnot gzip at all")

    with pytest.raises(ReviewDataError) as error:
        parse_raw_reviews(broken, params())

    message = str(error.value)
    assert message.startswith("s3://bucket/01_raw/reviews.csv.gz: cannot be read as a comma-separated table")
    assert "data_extraction.separator" in message and "\n" not in message


def test_parse_raw_reviews_says_when_a_file_is_not_utf8():
    latin1 = RawFile(path="data/01_raw/avis.csv", content="Id,Score,Text\n1,5,Très bon\n".encode("latin-1"))

    with pytest.raises(ReviewDataError, match=r"^data/01_raw/avis.csv: not UTF-8 text \(.*\); save it as UTF-8$"):
        parse_raw_reviews(latin1, params())


@pytest.mark.parametrize(
    ("value", "character"),
    [("tab", "\t"), ("TAB", "\t"), ("\t", "\t"), ("\\t", "\t"), ("comma", ","), (",", ","),
     ("pipe", "|"), ("auto", "auto")],
)
def test_separator_setting_takes_names_and_characters(value, character):
    assert params(separator=value).separator == character


@pytest.mark.parametrize("value", ["t", "tabs", '"', ""])
def test_separator_setting_refuses_what_is_not_a_separator(value):
    with pytest.raises(ValidationError, match="separator"):
        params(separator=value)


def test_select_review_fields_joins_headline_and_body(raw_reviews):
    reviews = select_review_fields(raw_reviews, params())

    assert list(reviews.columns) == ["review_id", "text", "star_rating", "product_category"]
    assert reviews.loc[1, "text"] == "Broke. Stopped working after a week"
    assert reviews["star_rating"].tolist() == [5, 1, 3, 4, 5, 2]


def test_select_review_fields_maps_other_column_names():
    other = pd.DataFrame({"key": [7], "stars": [4], "title": ["Tasty"], "comment": ["Good tea"]})
    mapping = ColumnMapping(
        review_id="key", star_rating="stars", review_headline="title", review_body="comment",
        product_category=None,
    )

    reviews = select_review_fields(other, params(columns=mapping))

    assert reviews.iloc[0].to_dict() == {
        "review_id": "7", "text": "Tasty. Good tea", "star_rating": 4, "product_category": "",
    }


def test_select_review_fields_recognises_fine_food_columns(caplog):
    fine_food = pd.DataFrame({"Id": [7], "ProductId": ["B001"], "Score": [4], "Summary": ["Tasty"],
                              "Text": ["Good tea"]})
    fine_food.attrs["source"] = "data/01_raw/fine_food_reviews_1k.csv"

    with caplog.at_level(logging.INFO):
        reviews = select_review_fields(fine_food, params())

    assert reviews.iloc[0].to_dict() == {
        "review_id": "7", "text": "Tasty. Good tea", "star_rating": 4, "product_category": "",
    }
    assert ("data/01_raw/fine_food_reviews_1k.csv: recognised the Amazon Fine Food Reviews layout"
            in caplog.text)


def test_select_review_fields_recognises_womens_clothing_columns_which_have_no_review_id(caplog):
    table = parse_raw_reviews(raw_file("clothing.csv", WOMENS_CLOTHING), params())

    with caplog.at_level(logging.INFO):
        reviews = select_review_fields(table, params())

    assert reviews.to_dict("records") == [
        {"review_id": "", "text": "Silky and sexy, and comfortable", "star_rating": 4,
         "product_category": "Intimates"},
        {"review_id": "", "text": "Some major design flaws. Too small.\nThe zipper sticks",
         "star_rating": 2, "product_category": "Dresses"},
    ]
    assert "recognised the Women's E-Commerce Clothing Reviews layout" in caplog.text
    assert "keyed by its text" in caplog.text


def test_womens_clothing_without_class_name_takes_the_department_as_category():
    table = parse_raw_reviews(raw_file("clothing.csv", WOMENS_CLOTHING), params())

    reviews = select_review_fields(table.drop(columns="Class Name"), params())

    assert reviews["product_category"].tolist() == ["Intimate", "Dresses"]


def test_select_review_fields_recognises_columns_whatever_their_case(raw_reviews):
    shouted = raw_reviews.rename(columns=str.upper)

    reviews = select_review_fields(shouted, params())

    assert reviews.loc[1, "text"] == "Broke. Stopped working after a week"


def test_an_explicit_column_mapping_wins_over_the_recognised_layout(raw_reviews):
    mapping = ColumnMapping(review_id="review_id", star_rating="star_rating", review_headline=None,
                            review_body="review_body", product_category="marketplace")

    reviews = select_review_fields(raw_reviews, params(columns=mapping))

    assert reviews.loc[1, ["text", "product_category"]].tolist() == ["Stopped working after a week", "US"]


def test_fields_a_mapping_leaves_out_come_from_the_recognised_layout():
    table = parse_raw_reviews(raw_file("clothing.csv", WOMENS_CLOTHING), params())

    reviews = select_review_fields(table, params(columns={"product_category": "Department Name"}))

    assert reviews["product_category"].tolist() == ["Intimate", "Dresses"]
    assert reviews["review_id"].tolist() == ["", ""]


def test_an_unrecognised_header_names_the_file_the_columns_and_the_setting():
    other = pd.DataFrame({"id": [1], "stars": [5], "comment": ["Fine"]})
    other.attrs["source"] = "data/01_raw/export.csv (dataset raw_reviews)"

    with pytest.raises(ReviewDataError) as error:
        select_review_fields(other, params())

    message = str(error.value)
    assert message.startswith("data/01_raw/export.csv (dataset raw_reviews): columns not recognised as "
                              "Amazon Customer Reviews, Amazon Fine Food Reviews or Women's E-Commerce")
    assert "columns found: id, stars, comment" in message
    assert "data_extraction.columns in conf/local/parameters_data_extraction.yml" in message
    assert "\n" not in message


def test_a_header_read_with_the_wrong_separator_says_which_setting_to_change(raw_reviews):
    as_one_column = parse_raw_reviews(raw_file("reviews.csv", amazon_tsv(raw_reviews)), params())

    with pytest.raises(ReviewDataError, match=r"one column: is the file tab-separated\? set "
                       r"data_extraction.separator"):
        select_review_fields(as_one_column, params())


def test_select_review_fields_names_the_missing_column_the_file_and_the_setting(raw_reviews):
    raw = raw_reviews.drop(columns="review_body")
    raw.attrs["source"] = "data/01_raw/reviews.tsv"
    mapping = ColumnMapping()  # the Amazon names, given explicitly

    with pytest.raises(ReviewDataError, match=r"^data/01_raw/reviews.tsv: missing column 'review_body' "
                       r"\(for review_body\); columns present: .*; set data_extraction.columns.review_body "
                       r"in conf/local/parameters_data_extraction.yml$"):
        select_review_fields(raw, params(columns=mapping))


def test_select_review_fields_names_row_column_and_setting_of_a_bad_star_rating(raw_reviews):
    raw = raw_reviews.assign(star_rating=[5, 1, "three", 4, 5, 2])

    with pytest.raises(ReviewDataError, match=r"row 3 \(review_id 'R3'\), column 'star_rating': star "
                       r"rating 'three' is not a whole number 1-5; .* data_extraction.columns.star_rating"):
        select_review_fields(raw, params())


def test_columns_setting_is_auto_by_default_and_refuses_other_words():
    assert params().columns == "auto"
    with pytest.raises(ValidationError):
        params(columns="fine_food")


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


def test_build_input_manifest_leaves_out_an_empty_review_id_so_the_text_is_the_key():
    reviews = pd.DataFrame({"review_id": [""], "text": ["Fits well"], "star_rating": [5],
                            "product_category": ["Knits"]})

    manifest = build_input_manifest(reviews)

    assert manifest == [{"source": "Fits well", "star_rating": 5, "product_category": "Knits"}]
    assert item_key(manifest[0]) == source_sha1("Fits well")


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
