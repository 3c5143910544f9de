"""Review file layouts recognised from their header, so that `data_extraction.columns: auto`
needs no column names for them: Amazon Customer Reviews, Amazon Fine Food Reviews and Women's
E-Commerce Clothing Reviews."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from review_sentiment.params import ColumnMapping


@dataclass(frozen=True)
class KnownSchema:
    """A layout: for each field, the column names that hold it (the first one present is used);
    the header must hold a column for every field in `required`."""

    name: str
    columns: dict[str, tuple[str, ...]]
    required: frozenset[str] = field(default=frozenset({"review_id", "star_rating", "review_body"}))

    def mapping(self, header: Iterable[object]) -> ColumnMapping | None:
        """The column of each field in `header` (names compared without case or surrounding
        spaces), or None if the header lacks a required one."""
        present = {str(column).strip().casefold(): str(column) for column in header}
        found = {
            name: next((present[c.casefold()] for c in candidates if c.casefold() in present), None)
            for name, candidates in self.columns.items()
        }
        if any(found.get(name) is None for name in self.required):
            return None
        return ColumnMapping(**{name: found.get(name) for name in ColumnMapping.model_fields})


KNOWN_SCHEMAS = (
    # The TSV files AWS published (marketplace, customer_id, review_id, product_id, …).
    KnownSchema(
        "Amazon Customer Reviews",
        {name: (name,) for name in ColumnMapping.model_fields},
    ),
    # SNAP's Amazon Fine Food Reviews (Id, ProductId, UserId, …, Score, Time, Summary, Text).
    KnownSchema(
        "Amazon Fine Food Reviews",
        {"review_id": ("Id",), "star_rating": ("Score",), "review_headline": ("Summary",),
         "review_body": ("Text",)},
    ),
    # Kaggle's Women's E-Commerce Clothing Reviews: no review id (Clothing ID is the product's),
    # so reviews are keyed by their text (ground_truth.records.item_key).
    KnownSchema(
        "Women's E-Commerce Clothing Reviews",
        {"star_rating": ("Rating",), "review_headline": ("Title",),
         "review_body": ("Review Text",), "product_category": ("Class Name", "Department Name")},
        required=frozenset({"star_rating", "review_body"}),
    ),
)


def recognise_schema(header: Iterable[object]) -> tuple[KnownSchema, ColumnMapping] | None:
    """The first known layout `header` holds, with its columns; None if it holds none."""
    header = list(header)
    for schema in KNOWN_SCHEMAS:
        mapping = schema.mapping(header)
        if mapping is not None:
            return schema, mapping
    return None
