"""Raw reviews to a Ground Truth input manifest: parse, select, clean, de-duplicate, sample.

Two engines, one pipeline: `parse_raw_reviews` reads the file with pandas or has Spark read it
(`data_extraction.engine`, `choose_engine`), and each later node works on what it gets, a pandas
table here or a Spark one in `spark_engine`, with the same columns, texts, counts, errors and
manifest lines.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import PurePosixPath
from typing import IO, Literal

import pandas as pd

from review_sentiment.ground_truth.categories import label_categories
from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.records import LineProblem, parse_input_line
from review_sentiment.params import ColumnMapping, ExtractionParams
from review_sentiment.params.pipelines import SEPARATORS
from review_sentiment.pipelines.data_extraction.errors import ReviewDataError
from review_sentiment.pipelines.data_extraction.raw_file import RawFile
from review_sentiment.pipelines.data_extraction.schemas import KNOWN_SCHEMAS, recognise_schema
from review_sentiment.reviews import REVIEW_COLUMNS
from review_sentiment.spark import ProjectSpark

logger = logging.getLogger(__name__)

_LINE_BREAK = re.compile(r"<br\s*/?>", flags=re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SPACE = re.compile(r"\s+")
# A word cut in half reads as a typo: a truncated text ends at the last space within this many
# characters of the limit.
_WORD_BOUNDARY_WINDOW = 200
# Where a user overrides data_extraction's settings, named in error messages.
_LOCAL_PARAMETERS = "conf/local/parameters_data_extraction.yml"
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
    from review_sentiment.pipelines.data_extraction import spark_engine

    return spark_engine.source_of(raw)


def _columns(table) -> list[str]:
    """A table's columns, pandas or Spark (less the Spark engine's row order)."""
    if isinstance(table, pd.DataFrame):
        return list(table.columns)
    from review_sentiment.pipelines.data_extraction.spark_engine import ORDER

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
            f"{raw_reviews.path}: not UTF-8 text ({_one_line(exc)}); save it as UTF-8"
        ) from exc
    except (ValueError, OSError, EOFError) as exc:
        # pandas' ParserError and EmptyDataError are ValueErrors; a broken gzip stream is an
        # OSError or EOFError.
        reason = _one_line(exc)
        raise ReviewDataError(
            f"{raw_reviews.path}: cannot be read as a {shown}-separated table ({chosen_by}): "
            f"{reason}; set data_extraction.separator (tab, comma, semicolon, pipe) in "
            f"{_LOCAL_PARAMETERS} if that is not its separator"
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
    from review_sentiment.pipelines.data_extraction import spark_engine

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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


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
            f"set {settings} in {_LOCAL_PARAMETERS}"
        )
    if not isinstance(raw_reviews, pd.DataFrame):
        from review_sentiment.pipelines.data_extraction import spark_engine

        return spark_engine.select_fields(raw_reviews, mapping, _LOCAL_PARAMETERS)

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
            f"data_extraction.columns.star_rating in {_LOCAL_PARAMETERS}"
        )
    category = _text_column(raw_reviews, mapping.product_category)
    return pd.DataFrame(
        {
            "review_id": review_id,
            "text": _join_headline(headline, body) if mapping.review_headline else body,
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
            f"product_category under data_extraction.columns in {_LOCAL_PARAMETERS}"
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
                f"in {_LOCAL_PARAMETERS})"
            )
    return ""


def _text_column(raw: pd.DataFrame, column: str | None) -> pd.Series | str:
    """A text column with missing values as "", or "" for a field the file does not have."""
    return raw[column].fillna("").astype(str) if column else ""


def _join_headline(headline: pd.Series, body: pd.Series) -> pd.Series:
    # "Five Stars" + "As described." reads as one text; an empty part adds no separator.
    both = headline.str.strip().ne("") & body.str.strip().ne("")
    return headline.where(~both, headline + ". ") + body


def clean_text(text: str) -> str:
    """Decodes HTML entities, turns `<br />` and other tags into spaces, collapses whitespace."""
    text = _LINE_BREAK.sub(" ", text)
    text = html.unescape(text)
    text = _TAG.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def truncate_text(text: str, limit: int = MAX_ATTRIBUTE_CHARS) -> str:
    """At most `limit` characters of `text`, ending at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ", limit - _WORD_BOUNDARY_WINDOW)
    return (cut[:space] if space > 0 else cut).rstrip()


def clean_reviews(reviews, params: ExtractionParams) -> tuple[pd.DataFrame, dict[str, int]]:
    """Cleans the text, deals with texts too long for Ground Truth (`params.too_long`), then drops
    empty texts and exact duplicate texts (first one in file order kept).

    Returns:
        The clean reviews (pandas, or Spark for a Spark table) and the counts of what was dropped
        or cut, for the run's record.
    """
    if not isinstance(reviews, pd.DataFrame):
        from review_sentiment.pipelines.data_extraction import spark_engine

        kept, counts = spark_engine.clean(reviews, params)
        _log_counts(counts)
        return kept, counts
    cleaned = reviews.assign(text=reviews["text"].map(clean_text))
    too_long = cleaned["text"].str.len() > MAX_ATTRIBUTE_CHARS
    if params.too_long == "truncate":
        cleaned.loc[too_long, "text"] = cleaned.loc[too_long, "text"].map(truncate_text)
    else:
        cleaned = cleaned.loc[~too_long]
    if too_long.any():
        logger.warning(
            "%d review text(s) are longer than Ground Truth takes (%s characters): %s "
            "(data_extraction.too_long)",
            int(too_long.sum()),
            f"{MAX_ATTRIBUTE_CHARS:,}",
            "truncated" if params.too_long == "truncate" else "skipped",
        )
    empty = cleaned["text"].eq("")
    non_empty = cleaned.loc[~empty]
    duplicate = non_empty["text"].duplicated(keep="first")
    kept = non_empty.loc[~duplicate].reset_index(drop=True)
    counts = {
        "rows_read": len(reviews),
        "too_long_texts_skipped": int(too_long.sum()) if params.too_long == "skip" else 0,
        "too_long_texts_truncated": int(too_long.sum()) if params.too_long == "truncate" else 0,
        "empty_texts_dropped": int(empty.sum()),
        "duplicate_texts_dropped": int(duplicate.sum()),
        "rows_kept": len(kept),
    }
    _log_counts(counts)
    return kept, counts


def _log_counts(counts: dict[str, int]) -> None:
    logger.info(
        "Dropped %d empty and %d duplicate texts; %d of %d reviews kept",
        counts["empty_texts_dropped"],
        counts["duplicate_texts_dropped"],
        counts["rows_kept"],
        counts["rows_read"],
    )


def sample_reviews(reviews, params: ExtractionParams):
    """Takes a reproducible random sample of `sample_size` reviews (all of them if fewer or unset).

    pandas draws with `DataFrame.sample(random_state=seed)`, Spark takes the reviews whose
    `xxhash64(seed, text)` is smallest: each is reproducible and exact, but they pick different
    reviews for the same seed."""
    if not isinstance(reviews, pd.DataFrame):
        from review_sentiment.pipelines.data_extraction import spark_engine

        return spark_engine.sample(reviews, params)
    if params.sample_size is None or params.sample_size >= len(reviews):
        return reviews.copy()
    return reviews.sample(n=params.sample_size, random_state=params.seed).reset_index(drop=True)


def build_input_manifest(reviews: pd.DataFrame) -> list[dict]:
    """One Ground Truth input-manifest line per review: inline `source` text plus our own keys.

    Ground Truth passes extra keys through to the output manifest, which is how the review id
    and the star rating reach the labeling and training steps. For a Spark table, the lines are
    a Spark table of their JSON texts (`_order`, `value`), which `InputManifestDataset` writes
    as one file with the same bytes.

    Raises:
        ManifestError: a line Ground Truth would refuse (e.g. a review id over its size limit);
            texts were made to fit by `clean_reviews`, so this is a bug or odd data, not a skip.
    """
    if not isinstance(reviews, pd.DataFrame):
        from review_sentiment.pipelines.data_extraction import spark_engine

        return spark_engine.manifest_lines(reviews)
    lines = [
        {
            "source": row.text,
            # No id (a file without review ids): Ground Truth and this project then key the
            # review by its text (ground_truth.records.item_key).
            **({"review_id": row.review_id} if row.review_id else {}),
            "star_rating": int(row.star_rating),
            "product_category": row.product_category,
        }
        for row in reviews.itertuples(index=False)
    ]
    for index, line in enumerate(lines):
        try:
            parse_input_line(line)
        except LineProblem as problem:
            review_id = str(line.get("review_id", ""))[:40]
            raise ManifestError(
                f"element {index} of the input manifest (review_id {review_id!r}): {problem}"
            ) from None
    return lines


def build_label_categories(params: ExtractionParams) -> dict:
    """The label category configuration file of a Ground Truth text classification job."""
    return label_categories(params.labels)


def build_worker_instructions(params: ExtractionParams) -> str:
    """Short instructions for workers, in the HTML fragment Ground Truth's templates take."""
    items = "\n".join(f"  <li><strong>{html.escape(label)}</strong></li>" for label in params.labels)
    return (
        f"<h2>{html.escape(params.instructions_title)}</h2>\n"
        "<p>Read the whole review, then choose the one label that best describes how the "
        "writer feels about the product.</p>\n"
        f"<ul>\n{items}\n</ul>\n"
        "<p>Judge the text, not the product: a review that praises a cheap product is positive. "
        "Mixed or purely factual reviews are neutral. Skip a review you cannot read.</p>\n"
    )
