"""Workforces: whoever or whatever gives labels, behind one interface chosen in parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from review_sentiment.labeling.ground_truth import Label


class StarRatingWorkforce(BaseModel):
    """Labels from the star rating: not a person, so human-annotated is "no"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    negative: list[int] = [1, 2]
    neutral: list[int] = [3]
    positive: list[int] = [4, 5]
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)


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

    def __init__(self, settings: StarRatingWorkforce, *, source: str = "input manifest") -> None:
        self._by_star: dict[int, str] = {}
        for class_name in ("negative", "neutral", "positive"):
            for star in getattr(settings, class_name):
                if star in self._by_star:
                    raise ValueError(
                        f"star {star} is mapped to both {self._by_star[star]} and {class_name}"
                    )
                self._by_star[star] = class_name
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
