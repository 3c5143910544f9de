"""Draws the bundled Women's E-Commerce Clothing Reviews sample: a fixed number of reviews,
stratified by Rating, every column and value as in the source, in its order, gzip-compressed.

    .venv/bin/python data/01_raw/make_womens_clothing_sample.py            # the bundled file
    .venv/bin/python data/01_raw/make_womens_clothing_sample.py --size 8000 --output /tmp/x.csv.gz

The same source, size and seed give a byte-identical file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
# ../shared/data from the project: the whole data set (22,641 reviews with text), as downloaded.
SOURCE = (
    HERE.parents[2] / "shared/data/reviews/womens_clothing/womens_clothing_ecommerce_reviews.csv.gz"
)
OUTPUT = HERE / "womens_clothing_reviews_8k.csv.gz"
SIZE = 8_000
SEED = 42


def stratified_sample(
    reviews: pd.DataFrame, size: int, seed: int, by: str = "Rating"
) -> pd.DataFrame:
    """`size` rows drawn with each value of `by` in its share of `reviews` (largest remainders
    get the rows left over), in their original order."""
    counts = reviews[by].value_counts().sort_index()
    exact = counts * size / len(reviews)
    quota = exact.astype(int)
    leftover = size - int(quota.sum())
    quota[(exact - quota).sort_values(ascending=False, kind="stable").index[:leftover]] += 1
    parts = [
        reviews[reviews[by] == value].sample(n=int(n), random_state=seed)
        for value, n in quota.items()
    ]
    return pd.concat(parts).sort_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if not args.source.exists():
        sys.exit(f"{args.source} is not here: pass --source with the downloaded data set")

    # Everything as text, empty fields kept empty: the rows are written back as they were read.
    reviews = pd.read_csv(args.source, dtype=str, keep_default_na=False)
    sample = stratified_sample(reviews, args.size, args.seed)
    # The first column is the original file's unnamed row index; keep its empty header.
    sample = sample.rename(columns={reviews.columns[0]: ""})
    # No file name and no time in the gzip header: the bytes depend on the rows only.
    with open(args.output, "wb") as file, gzip.GzipFile("", "wb", fileobj=file, mtime=0) as packed:
        sample.to_csv(
            packed, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n", encoding="utf-8"
        )
    print(
        f"{args.output}: {len(sample):,} of {len(reviews):,} reviews, seed {args.seed}; Rating "
        + ", ".join(f"{k}: {v:,}" for k, v in sample["Rating"].value_counts().sort_index().items())
    )


if __name__ == "__main__":
    main()
