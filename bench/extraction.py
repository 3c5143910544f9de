"""data_extraction on pandas vs Spark: wall time and peak memory of the whole process tree.

For each size (default 20k, 100k, 300k reviews) it writes an Amazon TSV (.tsv.gz) with
`bench/make_reviews.py` (issue 12's recipe), then runs `kedro run --pipelines data_extraction`
in a throw-away copy of the project with `data_extraction.engine` pandas and spark, alternating,
each a fresh process. Peak RSS is the largest sum, sampled every 0.1 s with psutil, of the kedro
process and all its descendants (Spark's JVM and its Python workers included). Then, on one
local Spark session, how `html.unescape` costs as a row UDF, a pandas_udf (Arrow), and not at
all, over the 100k file's texts. Prints medians and writes bench/results/extraction.json.

Usage: python bench/extraction.py [--sizes 20000 100000 300000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_reviews import make_reviews  # noqa: E402
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "bench" / "results" / "extraction.json"
ENGINES = ("pandas", "spark")


def make_project(root: Path) -> Path:
    project = root / "project"
    shutil.copytree(PROJECT / "conf", project / "conf", ignore=shutil.ignore_patterns("credentials*", "local"))
    (project / "conf" / "local").mkdir()
    shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()  # Kedro wants one; the package comes from the environment
    return project


def tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:  # the process ended between two samples
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_measured(command: list[str], cwd: Path, env: dict) -> tuple[float, int, str]:
    """Wall seconds, peak RSS of the process tree (bytes), and the output's tail."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    watched, peak, done = psutil.Process(process.pid), 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(watched))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-4000:]}")
    return seconds, peak, output[-2000:]


def measure_udfs(raw: Path, runs: int) -> dict:
    """Seconds to clean the texts of `raw` with html.unescape as a row UDF, a pandas_udf, and
    without it (the rest of clean_text as Spark SQL), each a count over the cleaned column."""
    os.environ["PYSPARK_PYTHON"] = sys.executable  # a pandas_udf needs pandas and pyarrow there
    from pyspark.sql import functions as F

    from review_sentiment.spark import start_spark
    from review_sentiment.reviews import spark_engine

    spark = start_spark({"spark.master": "local[*]", "spark.driver.memory": "4g", "spark.ui.enabled": "false",
                         "spark.ui.showConsoleProgress": "false", "spark.sql.shuffle.partitions": "8"})  # fmt: skip
    texts = (
        spark.read.csv(str(raw), sep="\t", header=True, quote='"', escape='"', multiLine=True)
        .select(F.concat_ws(". ", "review_headline", "review_body").alias("text"))
        .repartition(2)
        .persist()
    )
    texts.count()
    row_udf = F.udf(__import__("html").unescape, "string", useArrow=False)

    @F.pandas_udf("string")
    def arrow_udf(column):
        import html

        return column.map(html.unescape)

    variants = {"row_udf": row_udf, "pandas_udf": arrow_udf, "no_unescape": lambda column: column}
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, unescape in variants.items():
            spark_engine._unescape, original = unescape, spark_engine._unescape
            try:
                started = time.perf_counter()
                texts.select(F.sum(F.length(spark_engine.clean_text_column(F.col("text"))))).first()
                seconds[name].append(time.perf_counter() - started)
            finally:
                spark_engine._unescape = original
    spark.stop()
    return {name: {"median_s": round(statistics.median(s), 2), "runs_s": [round(x, 2) for x in s]}
            for name, s in seconds.items()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000, 300_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--udf-size", type=int, default=100_000)
    args = parser.parse_args()

    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MLFLOW_DISABLE_TELEMETRY": "true",
           "SPARK_LOCAL_IP": "127.0.0.1", "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    env.pop("MLFLOW_TRACKING_URI", None)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "what": "kedro run --pipelines data_extraction (all reviews, no sample), fresh process each; "
                "peak RSS = max over time of the sum over the process tree (JVM included)",
        "sizes": {},
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as tmp:
        root = Path(tmp)
        project = make_project(root)
        for size in args.sizes:
            raw = make_reviews(size, root / f"amazon_reviews_{size}.tsv.gz", seed=0)
            megabytes = raw.stat().st_size / 1e6
            measured = {engine: {"seconds": [], "peak_rss_mb": []} for engine in ENGINES}
            for run in range(args.runs):
                for engine in ENGINES if run % 2 == 0 else ENGINES[::-1]:
                    command = [str(bin_dir / "kedro"), "run", "--pipelines", "data_extraction",
                               "--params", f"raw_reviews_path={raw},data_extraction.engine={engine}"]  # fmt: skip
                    seconds, peak, _ = run_measured(command, project, env)
                    measured[engine]["seconds"].append(round(seconds, 1))
                    measured[engine]["peak_rss_mb"].append(round(peak / 1e6))
                    print(f"{size:>9,} reviews ({megabytes:.1f} MB) {engine:>6}: {seconds:6.1f} s, "
                          f"peak RSS {peak / 1e6:,.0f} MB", flush=True)  # fmt: skip
            results["sizes"][str(size)] = {
                "file_mb": round(megabytes, 1),
                **{engine: {"median_s": statistics.median(m["seconds"]),
                            "median_peak_rss_mb": statistics.median(m["peak_rss_mb"]), **m}
                   for engine, m in measured.items()},
            }  # fmt: skip
            write_results(RESULTS, results)  # after each size: a long run interrupted keeps what it measured
        if args.udf_size:
            raw = root / f"amazon_reviews_{args.udf_size}.tsv.gz"
            if not raw.exists():
                make_reviews(args.udf_size, raw, seed=0)
            results["unescape_udf"] = {"reviews": args.udf_size, **measure_udfs(raw, args.runs)}
            print("html.unescape:", json.dumps(results["unescape_udf"]))
    write_results(RESULTS, results)
    for size, row in results["sizes"].items():
        print(f"{int(size):>9,} reviews: pandas {row['pandas']['median_s']} s / "
              f"{row['pandas']['median_peak_rss_mb']:,} MB, spark {row['spark']['median_s']} s / "
              f"{row['spark']['median_peak_rss_mb']:,} MB")  # fmt: skip
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
