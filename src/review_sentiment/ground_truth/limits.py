"""Ground Truth's size limits on one manifest line, and the one check of them (readers, writer)."""

from __future__ import annotations

import json
from typing import Any

# "Each JSON object in the input manifest file can be no more than 100,000 characters", and
# "no single attribute within an object can exceed 20,000 characters": SageMaker Developer
# Guide, sms-input-data-input-manifest (awsdocs/amazon-sagemaker-developer-guide a869fa5 and
# the live page; ../shared/aws/GROUND_TRUTH.md §4 and §6). Characters, not bytes.
MAX_OBJECT_CHARS = 100_000
MAX_ATTRIBUTE_CHARS = 20_000


def json_line(obj: Any) -> str:
    """`obj` as this project writes one manifest line: compact UTF-8 JSON, no NaN."""
    # allow_nan=False: NaN/Infinity are not JSON and Ground Truth rejects them.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def limit_problem(obj: dict, text: str | None = None) -> str | None:
    """Why Ground Truth would refuse `obj` for its size, as `<field>: <what>`; None if it would not.

    Args:
        obj: the line's object.
        text: the line as read, if it was read; otherwise the size is that of `json_line(obj)`.

    A string attribute is measured by its characters; any other value by its JSON text.
    """
    size = len(text) if text is not None else len(json_line(obj))
    if size <= MAX_ATTRIBUTE_CHARS:
        return None  # nothing in it can be over either limit
    for key, value in obj.items():
        chars = len(value) if isinstance(value, str) else len(json_line(value))
        if chars > MAX_ATTRIBUTE_CHARS:
            return (
                f"{key}: {chars:,} characters; Ground Truth takes at most "
                f"{MAX_ATTRIBUTE_CHARS:,} per attribute"
            )
    if size > MAX_OBJECT_CHARS:
        # An output line is the input line plus the label Ground Truth added to it: only what
        # was sent to Ground Truth is held to the limit, or a real output line could fail.
        sent = {key: value for key, value in obj.items() if not _is_label_key(obj, key)}
        size = len(json_line(sent))
        if size > MAX_OBJECT_CHARS:
            return (
                f"object: {size:,} characters; Ground Truth takes at most "
                f"{MAX_OBJECT_CHARS:,} per JSON object"
            )
    return None


def _is_label_key(obj: dict, key: str) -> bool:
    return key.endswith("-metadata") or f"{key}-metadata" in obj
