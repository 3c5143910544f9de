"""Reading and cleaning reviews on Spark: the same steps as on pandas (`reading`, `cleaning`,
`manifest`), for raw files larger than memory or a cluster's session. Spark reads the raw file natively (CSV/TSV, gzip or bzip2,
Parquet), cleans with Spark SQL functions (a Python UDF only for `html.unescape`, which Spark SQL
lacks), de-duplicates keeping the first in file order, samples, and builds the manifest lines.

Every table here carries `_order`, the key of its rows' order: the position in the raw file
(`monotonically_increasing_id` at the scan: a raw file is one partition, or splits read in
order), then, after sampling, the sample's order. Writers sort by it (`datasets/spark_files.py`).
Tables read more than once (a check, then the next step) are persisted on local disk, not in
memory, so a raw file larger than memory is parsed and cleaned once.
"""

from __future__ import annotations

import atexit
import bz2
import gzip
import html
import logging
import lzma
import os
import shutil
import sys
import tempfile
import threading
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS, json_line
from review_sentiment.ground_truth.records import LineProblem, parse_input_line
from review_sentiment.params import ColumnMapping, ExtractionParams
from review_sentiment.datasets.raw_file import RawFile
from review_sentiment.reviews import REVIEW_COLUMNS
from review_sentiment.reviews.errors import ReviewDataError, one_line
from review_sentiment.spark import ShippedByValue

logger = logging.getLogger(__name__)

ORDER = "_order"
# What Spark's file sources decompress by the file's name; anything else is copied to a local
# temporary file, decompressed on the way.
SPARK_COMPRESSIONS = {None: "", "gzip": ".gz", "bz2": ".bz2"}
# Persisted tables go to the executors' local disks: the whole point is data larger than memory.
DISK = StorageLevel.DISK_ONLY
# Python's whitespace (`str.isspace`, `re`'s `\s`) in Java regex: Unicode White_Space plus the
# four information separators U+001C-U+001F, which Python counts and Java does not.
_WS = r"[\s\x{1c}-\x{1f}]"
_LINE_BREAK = r"(?i)<br(?U)" + _WS + r"*/?>"
_TAG = r"</?[a-zA-Z][^<>]*>"
_WORD_BOUNDARY_WINDOW = 200  # cleaning._WORD_BOUNDARY_WINDOW


# --- reading ------------------------------------------------------------------------------------


def read_raw_table(  # noqa: PLR0913
    spark: SparkSession,
    raw: RawFile,
    *,
    source: str,
    separator: str | None,
    compression: str | None,
    parquet: bool,
) -> DataFrame:
    """The raw file as a Spark table of text columns, empty fields as "", plus `_order`.

    Column names as pandas gives them: a BOM dropped, an unnamed column `Unnamed: <i>`.

    Raises:
        ReviewDataError: the cluster cannot read the file where it is, or Spark cannot read it
            as a table.
    """
    location = _spark_location(raw, compression, remote=is_cluster(spark))
    reader = spark.read
    try:
        if parquet:
            table = reader.parquet(location)
        else:
            table = reader.csv(
                location, header=True, sep=separator, quote='"', escape='"', multiLine=True,
                encoding="UTF-8", inferSchema=False, ignoreLeadingWhiteSpace=False,
                ignoreTrailingWhiteSpace=False,
            )  # fmt: skip
        columns = table.columns
    except Exception as exc:  # AnalysisException, a JVM error reading a broken file
        raise ReviewDataError(
            f"{raw.path}: Spark cannot read it as a "
            f"{'Parquet file' if parquet else 'table'}: {one_line(exc)}"
        ) from exc
    names = [_pandas_name(name, index) for index, name in enumerate(columns)]
    texts = [
        F.coalesce(F.col(f"`{column}`").cast("string"), F.lit("")).alias(name)
        for column, name in zip(columns, names, strict=True)
    ]
    order = F.monotonically_increasing_id().alias(ORDER, metadata={"source": source})
    return table.select(order, *texts)


def is_cluster(spark: SparkSession) -> bool:
    """Whether the session's executors are elsewhere (Spark Connect, or a master not `local`):
    they read files themselves, where they are."""
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        return True
    return not spark.sparkContext.master.startswith("local")


def source_of(table: DataFrame) -> str:
    """The raw file a table came from, kept in `_order`'s metadata by `read_raw_table`."""
    return table.schema[ORDER].metadata.get("source", "raw_reviews")


def _pandas_name(name: str, index: int) -> str:
    if index == 0:
        name = name.removeprefix("\ufeff")
    # Spark names a column with an empty header `_c<i>`, pandas `Unnamed: <i>`.
    return f"Unnamed: {index}" if name in ("", f"_c{index}") else name


def _spark_location(raw: RawFile, compression: str | None, *, remote: bool) -> str:
    """A path Spark can read: the file itself where possible, else a local copy."""
    protocol = raw.path.split("://", 1)[0] if "://" in raw.path else "file"
    readable = compression in SPARK_COMPRESSIONS and (
        compression is None or PurePosixPath(raw.name).suffix.lower() == SPARK_COMPRESSIONS[compression]
    )
    if remote:
        if protocol == "file" or protocol in CLUSTER_PROTOCOLS:
            if not readable:
                raise ReviewDataError(
                    f"{raw.path}: a Spark cluster reads the raw file itself and cannot "
                    f"decompress {compression} from this name; give it uncompressed, .gz or .bz2"
                )
            return raw.path if protocol != "file" else os.path.abspath(raw.local_path or raw.path)
        raise ReviewDataError(
            f"{raw.path}: a Spark cluster reads the raw file itself and cannot read {protocol}:// "
            "here; give raw_reviews_path as a path the cluster reads (s3a://bucket/key, dbfs:/..., "
            "/Volumes/..., or a path on the cluster's filesystem)"
        )
    if raw.local_path is not None and readable:
        return os.path.abspath(raw.local_path)
    return _local_copy(raw, compression, decompress=not readable)


# URL schemes a cluster's Spark reads with its own jars (this machine's local Spark reads none).
CLUSTER_PROTOCOLS = {"s3a", "dbfs", "abfss", "abfs", "wasbs", "gs", "hdfs", "file"}
_COPIES: list[str] = []
_COPIES_LOCK = threading.Lock()


def _local_copy(raw: RawFile, compression: str | None, *, decompress: bool) -> str:
    """Streams `raw` (from S3, or a compression Spark does not read by name) to a local temporary
    file, in 1 MiB chunks, and returns its path. Kept until the process ends: Spark reads lazily."""
    folder = tempfile.mkdtemp(prefix="review-sentiment-raw-")
    with _COPIES_LOCK:
        if not _COPIES:
            atexit.register(_remove_copies)
        _COPIES.append(folder)
    name = raw.name
    if decompress and compression:
        name = PurePosixPath(name).stem if PurePosixPath(name).suffix else name
    target = Path(folder) / (name or "raw")
    logger.info("Copying %s to %s for Spark%s", raw.path, target, " (decompressing)" if decompress and compression else "")
    with raw.open() as source, _decompressed(source, compression if decompress else None) as stream:
        with target.open("wb") as copy:
            shutil.copyfileobj(stream, copy, length=1 << 20)
    return str(target)


def _decompressed(stream: IO[bytes], compression: str | None) -> IO[bytes]:
    if compression is None:
        return _NotClosing(stream)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=stream)
    if compression == "bz2":
        return bz2.BZ2File(stream)
    if compression == "xz":
        return lzma.LZMAFile(stream)
    if compression == "zip":
        archive = zipfile.ZipFile(stream)
        return archive.open(archive.namelist()[0])
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(stream)
    raise ReviewDataError(f"cannot decompress {compression}")


class _NotClosing:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def __enter__(self) -> IO[bytes]:
        return self._stream

    def __exit__(self, *exc: object) -> None:
        return None


def _remove_copies() -> None:
    with _COPIES_LOCK:
        for folder in _COPIES:
            shutil.rmtree(folder, ignore_errors=True)
        _COPIES.clear()


# --- selecting ----------------------------------------------------------------------------------


def select_fields(raw_table: DataFrame, mapping: ColumnMapping, local_parameters: str) -> DataFrame:
    """`reading.select_review_fields` on Spark: the same columns (plus `_order`), the same error
    for the first bad star rating (one pass over the file, persisted for the next step)."""
    source = source_of(raw_table)
    review_id = _text(mapping.review_id)
    headline = _text(mapping.review_headline)
    body = _text(mapping.review_body)
    star_text = F.col(f"`{mapping.star_rating}`")
    stars = star_text.try_cast("double")
    bad = stars.isNull() | ~stars.isin(1, 2, 3, 4, 5)
    text = _join_headline(headline, body) if mapping.review_headline else body
    selected = raw_table.select(
        ORDER,
        review_id.alias("review_id"),
        text.alias("text"),
        F.when(bad, F.lit(None)).otherwise(stars.cast("int")).alias("star_rating"),
        _text(mapping.product_category).alias("product_category"),
        bad.alias("_bad_star"),
        star_text.alias("_star_text"),
    ).persist(DISK)
    first_bad = selected.where("_bad_star").orderBy(ORDER).select(ORDER, "review_id", "_star_text").first()
    if first_bad is not None:
        row = selected.where(F.col(ORDER) < first_bad[ORDER]).count() + 1
        selected.unpersist()
        which = f" (review_id {first_bad['review_id']!r})" if mapping.review_id else ""
        raise ReviewDataError(
            f"{source}: row {row}{which}, column {mapping.star_rating!r}: "
            f"star rating {first_bad['_star_text']!r} is not a whole number "
            f"1-5; if {mapping.star_rating!r} is not the star rating, set "
            f"data_extraction.columns.star_rating in {local_parameters}"
        )
    return selected.select(ORDER, *REVIEW_COLUMNS)


def _text(column: str | None) -> Column:
    return F.col(f"`{column}`") if column else F.lit("")


def _strip(column: Column) -> Column:
    return F.regexp_replace(column, f"(?U)^{_WS}+|{_WS}+$", "")


def _join_headline(headline: Column, body: Column) -> Column:
    both = (_strip(headline) != "") & (_strip(body) != "")
    return F.when(both, F.concat(headline, F.lit(". "), body)).otherwise(F.concat(headline, body))


# --- cleaning -----------------------------------------------------------------------------------


def clean_text_column(text: Column) -> Column:
    """`cleaning.clean_text` as Spark SQL: `<br>` and tags to spaces, whitespace collapsed and
    stripped; HTML entities decoded by `html.unescape` in a Python UDF, between the two as there."""
    text = F.regexp_replace(text, _LINE_BREAK, " ")
    text = _unescape(text)
    text = F.regexp_replace(text, _TAG, " ")
    text = F.regexp_replace(text, f"(?U){_WS}+", " ")
    return _strip(text)


def _unescape(text: Column) -> Column:
    # A row UDF, not a pandas_udf: the executors' Python needs only the standard library (a
    # cluster's image, or the bare `python3` local Spark starts, may lack pandas and pyarrow);
    # html.unescape returns a text without "&" at once. bench/extraction.py measures the
    # alternatives. Made per call: `F.udf` is Spark Connect's or the classic one by the session.
    return F.udf(html.unescape, returnType="string", useArrow=False)(text)


def truncate_column(text: Column, limit: int = MAX_ATTRIBUTE_CHARS) -> Column:
    """`cleaning.truncate_text` as Spark SQL: the first `limit` characters, cut at the last space
    within the last 200 of them if there is one, trailing whitespace stripped."""
    cut = F.substring(text, 1, limit)
    tail = F.substring(cut, limit - _WORD_BOUNDARY_WINDOW + 1, _WORD_BOUNDARY_WINDOW)
    from_end = F.locate(" ", F.reverse(tail))
    shortened = F.when(from_end > 0, F.substring(cut, F.lit(1), F.lit(limit) - from_end)).otherwise(cut)
    return F.when(F.length(text) <= limit, text).otherwise(
        F.regexp_replace(shortened, f"(?U){_WS}+$", "")
    )


def clean(reviews: DataFrame, params: ExtractionParams) -> tuple[DataFrame, dict[str, int]]:
    """`cleaning.clean_reviews` on Spark: the same texts, drops and counts. Two passes: the cleaned
    table (persisted) with its counts, then the de-duplicated one (persisted, counted)."""
    cleaned = (
        reviews.withColumn("text", clean_text_column(F.col("text")))
        .withColumn("_too_long", F.length("text") > MAX_ATTRIBUTE_CHARS)
        .persist(DISK)
    )
    counted = cleaned.agg(
        F.count(F.lit(1)).alias("rows"),
        F.coalesce(F.sum(F.col("_too_long").cast("int")), F.lit(0)).alias("too_long"),
        F.coalesce(F.sum((F.col("text") == "").cast("int")), F.lit(0)).alias("empty"),
    ).first()
    if params.too_long == "truncate":
        fitting = cleaned.withColumn("text", truncate_column(F.col("text")))
    else:
        fitting = cleaned.where(~F.col("_too_long"))
    too_long = int(counted["too_long"])
    if too_long:
        logger.warning(
            "%d review text(s) are longer than Ground Truth takes (%s characters): %s "
            "(data_extraction.too_long)",
            too_long, f"{MAX_ATTRIBUTE_CHARS:,}",
            "truncated" if params.too_long == "truncate" else "skipped",
        )  # fmt: skip
    first = F.min(F.struct(ORDER, "review_id", "star_rating", "product_category")).alias("first")
    kept = (
        fitting.where(F.col("text") != "")
        .groupBy("text")
        .agg(first)
        .select(F.col(f"first.{ORDER}").alias(ORDER), "first.review_id", "text", "first.star_rating",
                "first.product_category")
        .persist(DISK)
    )  # fmt: skip
    rows_kept = kept.count()
    cleaned.unpersist()
    rows_read, empty = int(counted["rows"]), int(counted["empty"])
    skipped = too_long if params.too_long == "skip" else 0
    counts = {
        "rows_read": rows_read,
        "too_long_texts_skipped": skipped,
        "too_long_texts_truncated": too_long if params.too_long == "truncate" else 0,
        "empty_texts_dropped": empty,
        "duplicate_texts_dropped": rows_read - skipped - empty - rows_kept,
        "rows_kept": rows_kept,
    }
    return kept, counts


# --- sampling -----------------------------------------------------------------------------------


def sample(reviews: DataFrame, params: ExtractionParams) -> DataFrame:
    """`cleaning.sample_reviews` on Spark: exactly `sample_size` reviews, the same ones for the same
    seed and texts whatever the partitioning: those whose `xxhash64(seed, text)` is smallest, in
    that order (not the rows pandas' `sample` picks)."""
    if params.sample_size is None or params.sample_size >= reviews.count():
        return reviews
    key = F.xxhash64(F.lit(params.seed), F.col("text"))
    return (
        reviews.withColumn("_key", key)
        .orderBy("_key", ORDER)
        .limit(params.sample_size)
        .withColumn(ORDER, F.col("_key"))
        .drop("_key")
    )


# --- the manifest -------------------------------------------------------------------------------


def manifest_lines(reviews: DataFrame) -> DataFrame:
    """`manifest.build_input_manifest` on Spark: `_order` and `value`, each line's JSON text as
    `ManifestDataset` writes it, checked by `parse_input_line` on the executors.

    Raises:
        ManifestError: the first line Ground Truth would refuse, as the pandas node names it.
    """
    from review_sentiment.ground_truth.manifest import ManifestError

    import review_sentiment.ground_truth

    # With this module and the format's checks inside: the executors need only the standard
    # library, not this project.
    shipped = (review_sentiment.ground_truth, sys.modules[__name__])
    build = F.udf(
        ShippedByValue(_manifest_line, "build_manifest_line", shipped),
        returnType="struct<value: string, problem: string, review_id: string>",
        useArrow=False,
    )
    lines = reviews.select(
        ORDER, build("text", "review_id", "star_rating", "product_category").alias("line")
    ).select(ORDER, "line.*").persist(DISK)
    bad = lines.where(F.col("problem").isNotNull()).orderBy(ORDER).first()
    if bad is not None:
        index = lines.where(F.col(ORDER) < bad[ORDER]).count()
        lines.unpersist()
        raise ManifestError(
            f"element {index} of the input manifest (review_id {bad['review_id'][:40]!r}): "
            f"{bad['problem']}"
        )
    return lines.select(ORDER, "value")


def _manifest_line(
    text: str, review_id: str, star_rating: int, product_category: str
) -> tuple[str | None, str | None, str]:
    """Runs on the executors: one review to its manifest line, as `manifest.build_input_manifest`."""
    line = {
        "source": text,
        **({"review_id": review_id} if review_id else {}),
        "star_rating": int(star_rating),
        "product_category": product_category,
    }
    try:
        parse_input_line(line)
    except LineProblem as problem:
        return None, str(problem), str(line.get("review_id", ""))
    return json_line(line), None, ""
