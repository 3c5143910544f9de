"""A raw review file to the review table: read with pandas or Spark (`choose_engine`), then its
id, text, star rating and category picked out under the project's names (`REVIEW_COLUMNS`).

Two engines, one table: `parse_raw_reviews` reads the file with pandas or has Spark read it
(`data_extraction.engine`), and each later step works on what it gets, a pandas table here or a
Spark one in `spark_engine`, with the same columns, texts, counts and errors.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import IO, Literal

import pandas as pd

from review_sentiment.datasets.raw_file import RawFile
from review_sentiment.params import ColumnMapping, ExtractionParams
from review_sentiment.params.pipelines import SEPARATORS
from review_sentiment.reviews import REVIEW_COLUMNS
from review_sentiment.reviews.errors import LOCAL_PARAMETERS, ReviewDataError, one_line
from review_sentiment.reviews.schemas import KNOWN_SCHEMAS, recognise_schema
from review_sentiment.spark import ProjectSpark

logger = logging.getLogger(__name__)

_COMPRESSION_BY_SUFFIX = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}
_COMPRESSION_BY_MAGIC = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bz2"}
_SEPARATOR_BY_SUFFIX = {".tsv": "\t", ".tab": "\t", ".csv": ","}
_SEPARATOR_NAMES = {character: name for name, character in SEPARATORS.items()}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_PARQUET_MAGIC = b"PAR1"


def _source(raw) -> str:
    # Set by parse_raw_reviews (and by the project's hook on tables the catalog loads), so errors
    # name the real file.
    if isinstance(raw, pd.DataFrame):
        return raw.attrs.get("source", "raw_reviews")
    from review_sentiment.reviews import spark_engine

    return spark_engine.source_of(raw)


def _columns(table) -> list[str]:
    """A table's columns, pandas or Spark (less the Spark engine's row order)."""
    if isinstance(table, pd.DataFrame):
        return list(table.columns)
    from review_sentiment.reviews.spark_engine import ORDER

    return [column for column in table.columns if column != ORDER]


def choose_engine(
    raw: RawFile, params: ExtractionParams, spark: ProjectSpark | None = None
) -> tuple[str, str]:
    """`pandas` or `spark` for this file, and why (for the log): `data_extraction.engine`, or
    with `auto` Spark when the project's session (`spark`) is a cluster's or the file is at
    least `spark_from_mb` as stored, else pandas (no JVM started for a small file)."""
    if params.engine != "auto":
        return params.engine, "data_extraction.engine"
    if spark is not None and spark.conf is not None and spark.is_remote:
        return "spark", f"engine auto: the Spark session is a cluster's ({spark.location})"
    megabytes = raw.size / 1e6
    if megabytes >= params.spark_from_mb:
        return "spark", f"engine auto: {megabytes:,.0f} MB >= spark_from_mb {params.spark_from_mb:g}"
    return "pandas", f"engine auto: {megabytes:,.1f} MB < spark_from_mb {params.spark_from_mb:g}"


def parse_raw_reviews(
    raw_reviews: RawFile, params: ExtractionParams, spark: ProjectSpark | None = None
):
    """The raw file as a table of text columns, empty fields as "" (ids and texts as written):
    a pandas DataFrame, or a Spark one (`choose_engine`) that the next nodes take as it is.
    Spark is `spark`'s session (the project's, started on first use), or without it the
    session running in the process.

    The separator is `params.separator`, else the file name's (.tsv tab, .csv comma, compressed
    or not), else whichever of tab and comma splits the header into more columns. Compression
    comes from the name (.gz, .bz2, .zip, .xz, .zst) or, for gzip, zip and bzip2, the content.
    A .parquet file (or one starting with Parquet's magic bytes) is read as Parquet.

    Raises:
        ReviewDataError: the file cannot be read as a table that way (naming the file and the
            setting to change).
    """
    engine, why = choose_engine(raw_reviews, params, spark)
    compression = _compression(raw_reviews)
    parquet = _is_parquet(raw_reviews, compression)
    if parquet:
        separator, chosen_by, shown = None, "Parquet", "Parquet"
    else:
        separator, chosen_by = _separator(raw_reviews, params.separator, compression)
        shown = _SEPARATOR_NAMES.get(separator, repr(separator))
    if engine == "spark":
        session = (spark or ProjectSpark()).session()
        return _parse_with_spark(session, raw_reviews, separator, compression, parquet, why)
    try:
        if parquet:
            table = _read_parquet(raw_reviews)
        else:
            with raw_reviews.open() as stream:
                table = _read_table(stream, separator, compression)
    except UnicodeDecodeError as exc:
        raise ReviewDataError(
            f"{raw_reviews.path}: not UTF-8 text ({one_line(exc)}); save it as UTF-8"
        ) from exc
    except (ValueError, OSError, EOFError) as exc:
        # pandas' ParserError and EmptyDataError are ValueErrors; a broken gzip stream is an
        # OSError or EOFError.
        reason = one_line(exc)
        raise ReviewDataError(
            f"{raw_reviews.path}: cannot be read as a {shown}-separated table ({chosen_by}): "
            f"{reason}; set data_extraction.separator (tab, comma, semicolon, pipe) in "
            f"{LOCAL_PARAMETERS} if that is not its separator"
        ) from exc
    logger.info(
        "Read %s reviews from %s, %s%s (%s), with pandas (%s)", f"{len(table):,}",
        raw_reviews.path, shown, "" if parquet else "-separated", chosen_by, why,
    )
    table.attrs["source"] = f"{raw_reviews.path} (dataset raw_reviews)"
    return table


def _read_parquet(raw: RawFile) -> pd.DataFrame:
    """Every column as text, nulls as "", as Spark casts them (Arrow's casts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with raw.open() as stream:
        arrow = pq.read_table(stream)
    return pd.DataFrame(
        {
            name: arrow.column(name).cast(pa.string()).to_pandas().fillna("").astype(object)
            for name in arrow.column_names
        }
    )


def _parse_with_spark(  # noqa: PLR0913
    session, raw: RawFile, separator: str | None, compression: str | None, parquet: bool, why: str
):
    from review_sentiment.reviews import spark_engine

    table = spark_engine.read_raw_table(
        session, raw, source=f"{raw.path} (dataset raw_reviews)", separator=separator,
        compression=compression, parquet=parquet,
    )  # fmt: skip
    shown = "Parquet" if parquet else f"{_SEPARATOR_NAMES.get(separator, repr(separator))}-separated"
    logger.info("Reading %s with Spark, %s (%s)", raw.path, shown, why)
    return table


def _read_table(
    stream: IO[bytes], separator: str, compression: str | None, **options
) -> pd.DataFrame:
    return pd.read_csv(
        stream, sep=separator, compression=compression, encoding="utf-8-sig",
        dtype=str, keep_default_na=False, **options,
    )


def _compression(raw: RawFile) -> str | None:
    suffix = PurePosixPath(raw.name).suffix.lower()
    if suffix in _COMPRESSION_BY_SUFFIX:
        return _COMPRESSION_BY_SUFFIX[suffix]
    head = raw.head(4)
    by_content = (m for start, m in _COMPRESSION_BY_MAGIC.items() if head.startswith(start))
    return next(by_content, None)


def _is_parquet(raw: RawFile, compression: str | None) -> bool:
    if compression is not None:
        return False
    return PurePosixPath(raw.name).suffix.lower() in _PARQUET_SUFFIXES or raw.head(4) == _PARQUET_MAGIC


def _separator(raw: RawFile, option: str, compression: str | None) -> tuple[str, str]:
    """The separator and what chose it, for the log and error messages."""
    if option != "auto":
        return option, "set by data_extraction.separator"
    name = raw.name.lower()
    suffixes = PurePosixPath(name).suffixes
    if compression and suffixes and suffixes[-1] in _COMPRESSION_BY_SUFFIX:
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SEPARATOR_BY_SUFFIX:
        return _SEPARATOR_BY_SUFFIX[suffixes[-1]], f"from the name {raw.name}"
    try:
        widths = {}
        for sep in "\t,":
            with raw.open() as stream:  # the header only: pandas reads a chunk, not the file
                widths[sep] = len(_read_table(stream, sep, compression, nrows=0).columns)
    except (ValueError, OSError, EOFError):
        return ",", f"the default: the name {raw.name} does not say"
    separator = "\t" if widths["\t"] > widths[","] else ","
    return separator, f"from the header: the name {raw.name} does not say"


def select_review_fields(raw_reviews, params: ExtractionParams):
    """Keeps id, text (headline + body), star rating and category under the project's names.

    The columns are `params.columns` where it names them; with `auto` (the default), or for a
    field a mapping leaves out, they are recognised from the header (`schemas.KNOWN_SCHEMAS`).
    A file without review ids gets "" (the manifest then keys each review by its text).

    Raises:
        ReviewDataError: the header is not a known layout and no mapping is set, a mapped column
            is missing, or a star rating is not a whole number 1-5.
    """
    mapping = resolve_columns(raw_reviews, params.columns)
    wanted = {
        field: column for field, column in mapping.model_dump().items() if column is not None
    }
    present = _columns(raw_reviews)
    missing = {field: column for field, column in wanted.items() if column not in present}
    if missing:
        described = ", ".join(f"{column!r} (for {field})" for field, column in missing.items())
        settings = ", ".join(f"data_extraction.columns.{field}" for field in missing)
        raise ReviewDataError(
            f"{_source(raw_reviews)}: missing column {described}; "
            f"columns present: {', '.join(map(str, present))}; "
            f"set {settings} in {LOCAL_PARAMETERS}"
        )
    if not isinstance(raw_reviews, pd.DataFrame):
        from review_sentiment.reviews import spark_engine

        return spark_engine.select_fields(raw_reviews, mapping, LOCAL_PARAMETERS)

    review_id = _text_column(raw_reviews, mapping.review_id)
    headline = _text_column(raw_reviews, mapping.review_headline)
    body = _text_column(raw_reviews, mapping.review_body)
    stars = pd.to_numeric(raw_reviews[mapping.star_rating], errors="coerce")
    bad = stars.isna() | ~stars.isin([1, 2, 3, 4, 5])
    if bad.any():
        row = int(bad.to_numpy().argmax())
        which = f" (review_id {review_id.iloc[row]!r})" if mapping.review_id else ""
        raise ReviewDataError(
            f"{_source(raw_reviews)}: row {row + 1}{which}, column {mapping.star_rating!r}: "
            f"star rating {raw_reviews[mapping.star_rating].iloc[row]!r} is not a whole number "
            f"1-5; if {mapping.star_rating!r} is not the star rating, set "
            f"data_extraction.columns.star_rating in {LOCAL_PARAMETERS}"
        )
    category = _text_column(raw_reviews, mapping.product_category)
    return pd.DataFrame(
        {
            "review_id": review_id,
            "text": join_headline(headline, body) if mapping.review_headline else body,
            "star_rating": stars.astype(int),
            "product_category": category,
        }
    )[REVIEW_COLUMNS]


def resolve_columns(raw_reviews, columns: ColumnMapping | Literal["auto"]) -> ColumnMapping:
    """The column of each field: those `columns` names, the rest from the recognised layout (or,
    when a mapping is given for a file of no known layout, the Amazon Customer Reviews names).

    Raises:
        ReviewDataError: `columns` is `auto` and the header is no known layout.
    """
    source = _source(raw_reviews)
    recognised = recognise_schema(_columns(raw_reviews))
    if isinstance(columns, ColumnMapping):
        given = columns.model_dump(include=columns.model_fields_set)
        if recognised is None or len(given) == len(ColumnMapping.model_fields):
            logger.info(
                "%s: columns from data_extraction.columns (%s)", source, _described(columns)
            )
            return columns
        schema, detected = recognised
        mapping = detected.model_copy(update=given)
        logger.info(
            "%s: columns from data_extraction.columns and the %s layout (%s)",
            source, schema.name, _described(mapping),
        )
        return mapping
    if recognised is None:
        raise ReviewDataError(
            f"{source}: columns not recognised as {_known_layouts()}; columns found: "
            f"{', '.join(map(str, _columns(raw_reviews)))}{_separator_hint(raw_reviews)}; name the "
            "columns of review_id, star_rating, review_headline, review_body and "
            f"product_category under data_extraction.columns in {LOCAL_PARAMETERS}"
        )
    schema, mapping = recognised
    logger.info("%s: recognised the %s layout (%s)", source, schema.name, _described(mapping))
    return mapping


def _described(mapping: ColumnMapping) -> str:
    fields = [f"{field}: {column}" for field, column in mapping.model_dump().items() if column]
    if mapping.review_id is None:
        fields.append("no review ids: each review is keyed by its text's SHA-1")
    return ", ".join(fields)


def _known_layouts() -> str:
    names = [schema.name for schema in KNOWN_SCHEMAS]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _separator_hint(raw) -> str:
    # One column whose name holds another separator: the file was split on the wrong one.
    columns = _columns(raw)
    if len(columns) == 1:
        header = str(columns[0])
        found = [name for name, character in SEPARATORS.items() if character in header]
        if found:
            return (
                f" (one column: is the file {found[0]}-separated? set data_extraction.separator "
                f"in {LOCAL_PARAMETERS})"
            )
    return ""


def _text_column(raw: pd.DataFrame, column: str | None) -> pd.Series | str:
    """A text column with missing values as "", or "" for a field the file does not have."""
    return raw[column].fillna("").astype(str) if column else ""


def join_headline(headline: pd.Series, body: pd.Series) -> pd.Series:
    # "Five Stars" + "As described." reads as one text; an empty part adds no separator.
    both = headline.str.strip().ne("") & body.str.strip().ne("")
    return headline.where(~both, headline + ". ") + body
