"""Workforces: whoever or whatever gives labels, behind one interface chosen in parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from review_sentiment.ground_truth.records import Label
from review_sentiment.params import StarRatingParams


class LabelingError(ValueError):
    """An item a workforce cannot label: names the manifest line and the field."""


class Workforce(Protocol):
    """Labels items of an input manifest; `None` means the item got no label (yet)."""

    name: str

    def label(self, items: Sequence[dict], classes: Sequence[str]) -> list[Label | None]: ...


class StarRatingLabeler:
    """Labels from the review's star rating (1-2 negative, 3 neutral, 4-5 positive by default).

    Not a person: its labels say `human-annotated: "no"`.
    """

    name = "star_rating"

    def __init__(self, settings: StarRatingParams, *, source: str = "input manifest") -> None:
        self._by_star = settings.classes_by_star()
        self._confidence = settings.confidence
        self._source = source

    def label(self, items: Sequence[dict], classes: Sequence[str]) -> list[Label | None]:
        unknown = sorted(set(self._by_star.values()) - set(classes))
        if unknown:
            raise LabelingError(
                f"the star_rating workforce gives {', '.join(unknown)}, which the label "
                f"categories ({', '.join(classes)}) do not have"
            )
        return [self._label_one(line, item) for line, item in enumerate(items, start=1)]

    def _label_one(self, line: int, item: dict) -> Label:
        star = item.get("star_rating")
        if isinstance(star, bool) or not isinstance(star, int | float) or star not in self._by_star:
            raise LabelingError(
                f"line {line} of {self._source}: field 'star_rating' is {star!r}, "
                f"expected one of {sorted(self._by_star)}"
            )
        return Label(self._by_star[int(star)], self._confidence, human_annotated=False)
