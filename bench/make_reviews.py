"""Synthetic Amazon Customer Reviews files of any size, as issue 12 describes them: each review is
one real review's headline and star rating (and its other columns) with the bodies of two random
reviews, drawn from the 20,000-review Amazon sample in ../shared/data (research-only data: read
from there, the output stays outside the project). Written as the TSV AWS published
(`amazon_reviews_us_*.tsv.gz`: tab-separated, a header, gzip), row by row, so memory stays at the
sample's (~60 MB) whatever `n` is.

Usage: python bench/make_reviews.py N PATH [--seed 0]
    e.g. python bench/make_reviews.py 1000000 /tmp/reviews_1m.tsv.gz
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
AMAZON_SAMPLE = PROJECT.parent / "shared" / "data" / "reviews" / "amazon_us_reviews_sample"
# The columns, in order, of the TSV files AWS published.
AMAZON_COLUMNS = [
    "marketplace", "customer_id", "review_id", "product_id", "product_parent", "product_title",
    "product_category", "star_rating", "helpful_votes", "total_votes", "vine",
    "verified_purchase", "review_headline", "review_body", "review_date",
]  # fmt: skip


def _sample_rows(folder: Path = AMAZON_SAMPLE) -> list[dict[str, str]]:
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"{folder}: no Amazon sample here (this reads the shared data)")
    rows: list[dict[str, str]] = []
    for path in files:
        with path.open(newline="", encoding="utf-8") as stream:
            rows.extend(csv.DictReader(stream))
    return rows


def make_reviews(n: int, path: str | Path, seed: int = 0) -> Path:
    """Writes `n` reviews to `path` (gzip if it ends in .gz) and returns it.

    Review ids are unique (`R` + the row number in base 36 with the seed), so the file keys every
    review by its id as the real files do; texts repeat only when the same two bodies are drawn
    again (rare), as real files have a few duplicates.
    """
    rows = _sample_rows()
    rng = random.Random(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name, renamed at the end: a benchmark never reads half a file.
    partial = path.with_name(f".{path.name}.partial")
    if path.suffix == ".gz":
        # gzip's default level is 9; 6 writes several times faster for a slightly larger file.
        stream = gzip.open(partial, "wt", encoding="utf-8", newline="", compresslevel=6)
    else:
        stream = partial.open("w", encoding="utf-8", newline="")
    with stream:
        writer = csv.writer(stream, delimiter="\t", lineterminator="\n")
        writer.writerow(AMAZON_COLUMNS)
        for number in range(n):
            row = rows[rng.randrange(len(rows))]
            first, second = rows[rng.randrange(len(rows))], rows[rng.randrange(len(rows))]
            review = {
                **row,
                "review_id": f"R{_base36(number)}S{seed}",
                "review_body": f"{first['review_body']} {second['review_body']}",
            }
            writer.writerow([review[column] for column in AMAZON_COLUMNS])
    partial.replace(path)
    return path


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="how many reviews")
    parser.add_argument("path", type=Path, help="the file to write (.tsv.gz for gzip)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    path = make_reviews(args.n, args.path, seed=args.seed)
    size = path.stat().st_size
    print(f"{args.n:,} reviews in {path} ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
