"""How every benchmark writes its figures: one JSON file, written whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from review_sentiment.files import replace_file_atomically


def write_results(path: Path, data: Any, *, indent: int = 2) -> None:
    """`data` as JSON at `path`, written whole as the project writes every file
    (`files.replace_file_atomically`): a kill mid-write leaves the previous results."""
    payload = json.dumps(data, indent=indent) + "\n"
    replace_file_atomically(path, payload.encode("utf-8"))
