"""Reviews for the model-search tests: the bundled women's clothing sample, labeled by stars."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

BUNDLED = Path(__file__).resolve().parents[2] / "data/01_raw/womens_clothing_reviews_8k.csv.gz"
STARS = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}


def star_labeled_reviews(count: int, seed: int = 0) -> pd.DataFrame:
    """`count` reviews of the bundled sample (text, label from the stars), the same every call."""
    raw = pd.read_csv(BUNDLED).dropna(subset=["Review Text"])
    sample = raw.sample(count, random_state=seed)
    return pd.DataFrame(
        {"text": sample["Review Text"].tolist(), "label": sample["Rating"].map(STARS).tolist()}
    )
