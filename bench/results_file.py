"""How every benchmark writes its figures: one JSON file, written whole."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_results(path: Path, data: Any, *, indent: int = 2) -> None:
    """`data` as JSON at `path`, through a temporary file renamed over it: a kill mid-write
    leaves the previous results, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        json.dump(data, handle, indent=indent)
        handle.write("\n")
        temporary = handle.name
    os.replace(temporary, path)
