"""data_extraction on the Spark engine: the same pipeline, run with `engine: spark` on the suite's
local Spark session, writes the same manifest, cleaning report and errors as with pandas; the
raw file is never read into this process; a large sample and manifest are written as one file."""

from __future__ import annotations

import gzip
import json
import uuid

import boto3
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from review_sentiment.datasets.input_manifest import InputManifestDataset
from review_sentiment.datasets.raw_file import RawFile, RawFileDataset
from review_sentiment.datasets.review_table import ReviewTableDataset
from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.params import ExtractionParams
from review_sentiment.pipelines import data_extraction
from review_sentiment.pipelines.data_extraction.nodes import (
    ReviewDataError,
    choose_engine,
    parse_raw_reviews,
    sample_reviews,
    select_review_fields,
)
from review_sentiment.spark import ProjectSpark
from tests.conftest import PROJECT, shared_data

LABELS = ["positive", "negative", "neutral"]
BUNDLED = PROJECT / "data/01_raw/womens_clothing_reviews_8k.csv.gz"


def params(**overrides) -> ExtractionParams:
    return ExtractionParams(labels=LABELS, **overrides)


def extract(raw_path, tmp_path, engine: str, **settings) -> tuple[bytes, dict, pd.DataFrame]:
    """The data_extraction pipeline as the catalog runs it: the manifest's bytes, the cleaning
    report and the review sample as re-loaded."""
    folder = tmp_path / engine
    catalog = DataCatalog(
        {
            "raw_reviews": RawFileDataset(filepath=str(raw_path)),
            "spark": MemoryDataset(ProjectSpark(), copy_mode="assign"),
            "params:data_extraction": MemoryDataset(params(engine=engine, **settings)),
            "review_sample": ReviewTableDataset(filepath=str(folder / "review_sample.csv")),
            "input_manifest": InputManifestDataset(filepath=str(folder / "input.manifest")),
        }
    )
    SequentialRunner().run(data_extraction.create_pipeline(), catalog)
    sample = ReviewTableDataset(filepath=str(folder / "review_sample.csv")).load()
    return (folder / "input.manifest").read_bytes(), catalog.load("cleaning_report"), sample


# A hand-made Amazon TSV: HTML (<br />, entities, tags, an escaped tag), a quoted field with a
# tab and a line break, an empty text, a blank one, duplicates (the first in file order is kept),
# a text over Ground Truth's limit, Unicode spaces, a file without a trailing newline.
LONG_BODY = " ".join(["lovely"] * 3_500) + " " + "x" * 7  # 24,507 characters
HAND_MADE_ROWS = [
    ("R1", "5", "Great", "Works &#34;perfectly&#34;.<br /><br />Would&nbsp;buy <b>again</b>"),
    ("R2", "1", "Broke", "Stopped working\u2003after a week &lt;b&gt;never&lt;/b&gt;"),
    ("R3", "3", "", ""),
    ("R4", "4", "Nice", '"Good\tvalue,\nreally"'),
    ("R5", "5", "Great", "Works &#34;perfectly&#34;.<br /><br />Would&nbsp;buy <b>again</b>"),
    ("R6", "2", "  ", "<br />"),
    ("R7", "5", "Long", LONG_BODY),
    ("R8", "4", "Fine", "Works. <BR/>Fine\x1cenough &amp "),
    ("R9", "5", "Great", "Works &#34;perfectly&#34;. Would buy again"),
]


@pytest.fixture
def hand_made_tsv(tmp_path):
    header = "marketplace\treview_id\tproduct_category\tstar_rating\treview_headline\treview_body"
    lines = [header] + [f"US\t{rid}\tBooks\t{stars}\t{head}\t{body}" for rid, stars, head, body in HAND_MADE_ROWS]
    path = tmp_path / "hand_made.tsv"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("too_long", ["skip", "truncate"])
def test_both_engines_write_the_same_manifest_from_a_hand_made_tsv(spark, hand_made_tsv, tmp_path, too_long):
    pandas_bytes, pandas_report, pandas_sample = extract(hand_made_tsv, tmp_path, "pandas", too_long=too_long)
    spark_bytes, spark_report, spark_sample = extract(hand_made_tsv, tmp_path, "spark", too_long=too_long)

    assert spark_bytes == pandas_bytes
    assert spark_report == pandas_report
    # R3 and R6 are empty once cleaned; R5 and R9 are R1 once cleaned.
    assert spark_report["empty_texts_dropped"] == 2 and spark_report["duplicate_texts_dropped"] == 2
    pd.testing.assert_frame_equal(spark_sample, pandas_sample)
    lines = [json.loads(line) for line in spark_bytes.decode().splitlines()]
    assert lines[0] == {"source": 'Great. Works "perfectly". Would buy again', "review_id": "R1",
                        "star_rating": 5, "product_category": "Books"}
    assert [line["review_id"] for line in lines[:3]] == ["R1", "R2", "R4"]
    assert lines[1]["source"] == "Broke. Stopped working after a week never"
    if too_long == "truncate":
        long = next(line["source"] for line in lines if line["review_id"] == "R7")
        assert MAX_ATTRIBUTE_CHARS - 200 < len(long) <= MAX_ATTRIBUTE_CHARS and long.endswith("lovely")
        assert spark_report["too_long_texts_truncated"] == 1
    else:
        assert "R7" not in {line["review_id"] for line in lines}
        assert spark_report["too_long_texts_skipped"] == 1


def test_both_engines_write_the_same_manifest_from_the_bundled_sample(spark, tmp_path):
    pandas_bytes, pandas_report, _ = extract(BUNDLED, tmp_path, "pandas")
    spark_bytes, spark_report, _ = extract(BUNDLED, tmp_path, "spark")

    assert spark_report == pandas_report and spark_report["rows_read"] == 8_000
    assert spark_bytes == pandas_bytes
    assert spark_bytes.count(b"\n") == spark_report["rows_kept"]


def test_both_engines_write_the_same_manifest_from_the_amazon_sample(spark, tmp_path):
    # The two 10,000-review Amazon files as one (quoted CSV with the TSV's columns and its HTML).
    folder = shared_data("reviews/amazon_us_reviews_sample")
    raw = tmp_path / "amazon_reviews_us_20k.csv.gz"
    raw.write_bytes(gzip.compress(pd.concat(pd.read_csv(p, dtype=str, keep_default_na=False)
                                            for p in sorted(folder.glob("*.csv"))).to_csv(index=False).encode()))

    pandas_bytes, pandas_report, _ = extract(raw, tmp_path, "pandas")
    spark_bytes, spark_report, _ = extract(raw, tmp_path, "spark")

    assert spark_report == pandas_report and pandas_report["rows_read"] == 20_000
    assert spark_bytes == pandas_bytes


def test_the_spark_sample_is_exact_and_reproducible_and_reloads_for_build_input_manifest(spark, tmp_path):
    first, _, sample = extract(BUNDLED, tmp_path / "a", "spark", sample_size=500, seed=7)
    again, _, _ = extract(BUNDLED, tmp_path / "b", "spark", sample_size=500, seed=7)
    other, _, _ = extract(BUNDLED, tmp_path / "c", "spark", sample_size=500, seed=8)

    assert first == again and first != other
    assert first.count(b"\n") == len(sample) == 500
    # `kedro run --nodes build_input_manifest`: the sample as saved gives the same manifest.
    rebuilt = tmp_path / "rebuilt.manifest"
    catalog = DataCatalog({
        "review_sample": ReviewTableDataset(filepath=str(tmp_path / "a/spark/review_sample.csv")),
        "input_manifest": InputManifestDataset(filepath=str(rebuilt)),
    })  # fmt: skip
    SequentialRunner().run(data_extraction.create_pipeline().only_nodes("build_input_manifest"), catalog)
    assert rebuilt.read_bytes() == first


def test_a_large_review_sample_loads_back_as_a_spark_table(spark, tmp_path):
    reviews = select_review_fields(parse_raw_reviews(RawFileDataset(filepath=str(BUNDLED)).load(),
                                                     params(engine="spark")), params())
    dataset = ReviewTableDataset(filepath=str(tmp_path / "sample.csv"), spark_from_mb=0.5)
    dataset.save(sample_reviews(reviews, params(sample_size=3_000)))

    loaded = dataset.load()

    assert not isinstance(loaded, pd.DataFrame) and loaded.count() == 3_000
    assert pd.read_csv(tmp_path / "sample.csv").columns.tolist() == ["review_id", "text", "star_rating", "product_category"]


def spark_table(tmp_path, name: str, text: str, **settings):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_raw_reviews(RawFileDataset(filepath=str(path)).load(), params(engine="spark", **settings)), path


def test_a_bad_star_rating_names_the_file_row_and_column_on_spark(spark, tmp_path):
    table, path = spark_table(tmp_path, "reviews.tsv", "review_id\tstar_rating\treview_body\n"
                              "R1\t5\tFine\nR2\t4\tGood\nR3\tthree\tOK\nR4\t\tMeh\n")

    with pytest.raises(ReviewDataError) as error:
        select_review_fields(table, params())

    assert str(error.value) == (
        f"{path} (dataset raw_reviews): row 3 (review_id 'R3'), column 'star_rating': star rating "
        "'three' is not a whole number 1-5; if 'star_rating' is not the star rating, set "
        "data_extraction.columns.star_rating in conf/local/parameters_data_extraction.yml"
    )


def test_an_unknown_header_names_the_columns_found_on_spark(spark, tmp_path):
    table, path = spark_table(tmp_path, "export.csv", "id,stars,comment\n1,5,Fine\n")

    with pytest.raises(ReviewDataError) as error:
        select_review_fields(table, params())

    message = str(error.value)
    assert message.startswith(f"{path} (dataset raw_reviews): columns not recognised as Amazon Customer Reviews")
    assert "columns found: id, stars, comment;" in message and "\n" not in message


def test_a_missing_mapped_column_is_named_on_spark(spark, tmp_path):
    table, path = spark_table(tmp_path, "reviews.csv", "Id,Score,Summary,Text\n1,5,Great,Lovely tea\n")

    with pytest.raises(ReviewDataError, match=r"missing column 'Stars' \(for star_rating\); columns present: "
                       r"Id, Score, Summary, Text; set data_extraction.columns.star_rating"):
        select_review_fields(table, params(columns={"star_rating": "Stars"}))


def test_a_parquet_file_reads_alike_on_both_engines(spark, tmp_path):
    frame = pd.DataFrame({"review_id": ["R1", "R2"], "star_rating": [5, 2], "review_headline": ["Good", None],
                          "review_body": ["Fine &amp; dandy", "Meh"], "product_category": ["Books", "Books"]})
    path = tmp_path / "reviews.parquet"
    frame.to_parquet(path)

    pandas_bytes, pandas_report, _ = extract(path, tmp_path, "pandas")
    spark_bytes, spark_report, _ = extract(path, tmp_path, "spark")

    assert spark_bytes == pandas_bytes and spark_report == pandas_report
    assert json.loads(spark_bytes.splitlines()[0])["source"] == "Good. Fine & dandy"


def test_auto_takes_pandas_for_a_small_file_and_spark_from_the_threshold(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_bytes(b"x" * 2_000_000)
    raw = RawFileDataset(filepath=str(path)).load()

    assert choose_engine(raw, params())[0] == "pandas"
    assert choose_engine(raw, params(spark_from_mb=2))[0] == "spark"
    assert choose_engine(raw, params(engine="spark", spark_from_mb=100))[0] == "spark"


def test_the_raw_file_is_not_read_into_memory_on_the_spark_path(spark, tmp_path, monkeypatch):
    read = []
    monkeypatch.setattr(RawFile, "content", property(lambda self: read.append(self.path) or b""))

    table = parse_raw_reviews(RawFileDataset(filepath=str(BUNDLED)).load(), params(engine="spark"))

    assert select_review_fields(table, params()).count() == 8_000
    assert read == []


@pytest.fixture
def s3_raw(aws_test_credentials, moto_url, hand_made_tsv):
    bucket = f"raw-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="01_raw/hand_made.tsv.gz", Body=gzip.compress(hand_made_tsv.read_bytes()))
    credentials = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": moto_url}}
    return RawFileDataset(filepath=f"s3://{bucket}/01_raw/hand_made.tsv.gz", credentials=credentials)


def test_an_s3_raw_file_is_streamed_to_a_local_file_for_a_local_session(spark, s3_raw, hand_made_tsv):
    on_s3 = parse_raw_reviews(s3_raw.load(), params(engine="spark"))
    local = parse_raw_reviews(RawFileDataset(filepath=str(hand_made_tsv)).load(), params(engine="pandas"))

    rows = select_review_fields(on_s3, params()).orderBy("_order").drop("_order").toPandas()

    assert rows.to_dict("records") == select_review_fields(local, params()).to_dict("records")


def test_a_cluster_session_needs_a_path_the_cluster_reads(s3_raw):
    from review_sentiment.reviews.spark_engine import _spark_location

    raw = s3_raw.load()

    with pytest.raises(ReviewDataError) as error:
        _spark_location(raw, "gzip", remote=True)

    assert str(error.value) == (
        f"{raw.path}: a Spark cluster reads the raw file itself and cannot read s3:// here; give "
        "raw_reviews_path as a path the cluster reads (s3a://bucket/key, dbfs:/..., /Volumes/..., "
        "or a path on the cluster's filesystem)"
    )


def test_a_spark_sample_saved_to_s3_is_one_object_with_the_bytes_of_a_local_save(
    spark, aws_test_credentials, moto_url, tmp_path
):
    # --env aws with a large sample: Spark's output is uploaded in one piece to the bucket
    # (a real S3 API server on 127.0.0.1), never written there part by part.
    bucket = f"primary-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    credentials = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": moto_url}}
    table = spark.createDataFrame(
        [(2, "R2", 'said "no", twice', "1", "Books"), (1, "R1", "fine\nreally", "5", "Books")],
        ["_order", "review_id", "text", "star_rating", "product_category"],
    )
    remote = ReviewTableDataset(filepath=f"s3://{bucket}/02_intermediate/review_sample.csv", credentials=credentials)
    local = ReviewTableDataset(filepath=str(tmp_path / "review_sample.csv"))

    remote.save(table)
    local.save(table)

    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    assert [entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "02_intermediate/review_sample.csv"
    ]
    uploaded = s3.get_object(Bucket=bucket, Key="02_intermediate/review_sample.csv")["Body"].read()
    assert uploaded == (tmp_path / "review_sample.csv").read_bytes()
    assert list(local.load()["review_id"]) == ["R1", "R2"]  # in _order
    assert list(tmp_path.iterdir()) == [tmp_path / "review_sample.csv"]  # no temporary file left
