"""What one labeled set costs a labeling run: collecting it from its rounds on disk, appending a round
of new labels and writing the output manifest (its view), against the floor of reading and writing
the view alone (what a run did before the set existed), at growing sizes.

Each size is measured in a fresh process (peak RSS is per process), three times; the medians are
printed and written to bench/results/labeled_set.json.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from results_file import write_results

SIZES = (10_000, 100_000, 300_000)
RUNS = 3
NEW_SHARE = 0.01  # a run's new labels, as a share of the set


def measure(size: int, folder: Path) -> dict:
    """One size in this process: seconds of each step and the process's peak RSS."""
    from review_sentiment.datasets import ManifestDataset, PreviousManifestDataset
    from review_sentiment.datasets.partitions import OptionalPartitionedDataset
    from review_sentiment.ground_truth.categories import label_categories
    from review_sentiment.ground_truth.records import Label, labeled_line
    from review_sentiment.labeling.labeled_set import append_label_round, collect_labeled_set
    from review_sentiment.params import LabelingParams

    classes = ["positive", "negative", "neutral"]
    categories, params = label_categories(classes), LabelingParams()
    created = datetime(2026, 12, 1, tzinfo=UTC)

    def lines(start: int, stop: int) -> list[dict]:
        text = "A review of about two hundred characters, as the clothing reviews are. " * 3
        return [
            {**labeled_line({"source": f"{text}{i}", "review_id": f"R{i}"}, Label(classes[i % 3], 1.0, False),
                            attribute="sentiment", classes=classes, job_name="bench", created=created),
             "workforce": "star_rating"}
            for i in range(start, stop)
        ]  # fmt: skip

    rounds = {"path": str(folder / "labeled"), "dataset": "review_sentiment.datasets.ManifestDataset",
              "filename_suffix": ".manifest"}  # fmt: skip
    existing = lines(0, size)
    OptionalPartitionedDataset(**rounds).save({"round-0001": existing})
    view = ManifestDataset(filepath=str(folder / "output.manifest"))
    view.save(existing)
    new = lines(size, size + int(size * NEW_SHARE))
    del existing

    started = time.perf_counter()
    floor_lines = view.load()
    view.save(floor_lines + new)
    floor = time.perf_counter() - started
    view.save(floor_lines)
    del floor_lines

    started = time.perf_counter()
    labeled = collect_labeled_set(
        OptionalPartitionedDataset(**rounds).load(),
        PreviousManifestDataset(filepath=str(folder / "output.manifest")).load(),
        categories, params,
    )  # fmt: skip
    collected = time.perf_counter()
    written, after, lines_after = append_label_round(labeled, new, categories, params)
    appended = time.perf_counter()
    OptionalPartitionedDataset(**rounds).save(written)
    view.save(lines_after)
    saved = time.perf_counter()
    assert len(lines_after) == size + len(new)
    return {
        "floor_s": round(floor, 2),
        "collect_s": round(collected - started, 2),
        "append_s": round(appended - collected, 2),
        "save_s": round(saved - appended, 2),
        "total_s": round(saved - started, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "view_mb": round((folder / "output.manifest").stat().st_size / 2**20, 1),
    }


def main() -> None:
    if len(sys.argv) == 2:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(measure(int(sys.argv[1]), Path(folder))))
        return
    results = {}
    for size in SIZES:
        runs = [
            json.loads(subprocess.run([sys.executable, __file__, str(size)], check=True, capture_output=True,
                                      text=True).stdout.strip().splitlines()[-1])
            for _ in range(RUNS)
        ]  # fmt: skip
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        median["total_vs_floor"] = round(median["total_s"] / median["floor_s"], 2)
        results[str(size)] = {"median": median, "runs": runs}
        print(f"{size:>9,} labels: {json.dumps(median)}", flush=True)
    write_results(Path(__file__).parent / "results" / "labeled_set.json", {
        "what": __doc__.split("\n\n")[0].replace("\n", " "),
        "new_share": NEW_SHARE, "runs": RUNS, "sizes": results,
    })  # fmt: skip


if __name__ == "__main__":
    main()
