"""Label categories: the class names of a labeling job, in class-index order."""

from __future__ import annotations

from collections.abc import Sequence


def check_classes(classes: Sequence[str]) -> list[str]:
    """The classes as a list, or `ValueError` unless they are two or more distinct names.

    Ground Truth's text classification needs at least two labels, each unique.
    """
    classes = list(classes)
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be two or more distinct names, got {classes}")
    return classes


def label_classes(label_categories: dict) -> list[str]:
    """The class names of a label category configuration, in class-index order."""
    try:
        classes = [entry["label"] for entry in label_categories["labels"]]
    except (KeyError, TypeError) as error:
        raise ValueError(
            "label categories must look like {'labels': [{'label': 'positive'}, ...]}, "
            f"got {label_categories!r}"
        ) from error
    return check_classes(classes)


def label_categories(classes: Sequence[str]) -> dict:
    """The label category configuration file of a Ground Truth text classification job."""
    return {
        "document-version": "2018-11-28",
        "labels": [{"label": name} for name in check_classes(classes)],
    }
