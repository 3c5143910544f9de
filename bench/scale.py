"""How the whole flow scales with the number of reviews: 100k, 300k and 1M (4M with --with-4m).

Input files are made as issue 12 describes (bench/make_reviews.py): each review is one Amazon
review's headline and star rating with the bodies of two random reviews, from the 20,000 Amazon
Customer Reviews in ../shared/data (research-only data: the files live under --workdir, never in
the project), so texts are unique and the vocabulary grows as in real data.

Each size runs `kedro run --pipelines data_extraction,labeling,feature_engineering,training` with
the project's defaults (star_rating workforce, label-error search on) and hashed features, in a
fresh copy of the project's configuration, in a fresh process: extraction → labeling → label-error search →
features → both fits → registration. The process runs Kedro in-process (`KedroSession`, as
`kedro run` does) with one more hook that records when every node starts and ends; this script
samples the resident memory of that process and all its children (the Spark JVM included) every
0.2 s with psutil, so every node gets its wall seconds and the peak memory of the tree while it ran.

Prints a table per size and the cost per review of each part, and writes
bench/results/scale.json and bench/results/scale.png (time and peak memory against reviews).

Targets (issue 12): 1M reviews in under 10 minutes wall on 2 cores with the process tree under
6 GB; each part's cost per review flat from 100k to 1M; test macro-F1 at 1M not below 100k's.

Usage: python bench/scale.py [--sizes 100000 300000 1000000] [--with-4m] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from kedro.framework.hooks import hook_impl
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "bench" / "results" / "scale.json"
PIPELINES = ["data_extraction", "labeling", "feature_engineering", "training"]
# The parts of the run the issue asks about, by node; a node not named here counts as "other".
PARTS = {
    "extraction": (
        "parse_raw_reviews", "select_review_fields", "clean_reviews", "sample_reviews",
        "build_input_manifest",
    ),
    "labeling": ("label_reviews",),
    "label-error search": ("find_label_issues",),
    "features": (
        "read_labeled_reviews", "split_reviews", "build_bigram_features", "build_tfidf_features",
    ),
    "choice (CV)": ("search_models", "report_model_search", "log_candidate_runs"),
    "fits": (
        "bigram.fit_classifier", "tfidf.fit_classifier", "build_bigram_model", "build_tfidf_model",
        "fit_chosen_model",
    ),
    "scoring": (
        "bigram.evaluate_on_training_set", "bigram.evaluate_on_test_set",
        "tfidf.evaluate_on_training_set", "tfidf.evaluate_on_test_set", "evaluate_chosen_model",
    ),
    "registration": ("register_best_model",),
}  # fmt: skip
SAMPLE_SECONDS = 0.2
# Whose memory it is: the kedro process itself, the Spark driver JVM, and the rest of the tree
# (cross-validation workers, Spark's Python workers).
PROCESS_KINDS = ("kedro", "spark", "workers")
HASHING = {"feature_engineering": {"vectorizer": "hashing", "n_features": 2**20}}
DEFAULT_SIZES = (100_000, 300_000, 1_000_000)


# --- one run, in the kedro process ------------------------------------------------------------


class NodeClock:
    """When each node started and ended (epoch seconds, to line up with the memory samples)."""

    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = {}

    @hook_impl
    def before_node_run(self, node) -> None:
        self.spans[node.name] = [time.time()]

    @hook_impl
    def after_node_run(self, node) -> None:
        self.spans[node.name].append(time.time())


def run_pipelines(project: Path, raw_reviews: Path, timings: Path) -> None:
    """`kedro run --pipelines … --params raw_reviews_path=…` in this process."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    clock = NodeClock()
    os.chdir(project)
    bootstrap_project(project)
    started = time.time()
    with KedroSession.create(
        project_path=project,
        # Hashed features, as the README advises beyond a few hundred thousand reviews.
        runtime_params={"raw_reviews_path": str(raw_reviews), **HASHING},
    ) as session:
        # Kedro has no --hooks option; settings.py's hooks run as always, this one as well.
        session._hook_manager.register(clock)
        session.run(pipeline_names=PIPELINES)
    timings.write_text(json.dumps({"started": started, "ended": time.time(), "spans": clock.spans}))


# --- the bench ----------------------------------------------------------------------------------


class TreeMemory(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until the process ends."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self._psutil = psutil
        self._root = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []  # (epoch seconds, bytes)
        self.by_kind: list[dict[str, int]] = []  # the same samples, by PROCESS_KINDS
        self._done = threading.Event()

    def run(self) -> None:
        psutil = self._psutil
        while not self._done.is_set():
            by_kind = dict.fromkeys(PROCESS_KINDS, 0)
            try:
                processes = [self._root, *self._root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for process in processes:
                try:
                    by_kind[self._kind(process)] += process.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass  # ended between listing and reading
            self.samples.append((time.time(), sum(by_kind.values())))
            self.by_kind.append(by_kind)
            self._done.wait(SAMPLE_SECONDS)

    def _kind(self, process) -> str:
        if process.pid == self._root.pid:
            return "kedro"
        return "spark" if process.name() == "java" else "workers"

    def stop(self) -> None:
        self._done.set()
        self.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0)

    def peaks_by_kind(self, start: float = 0.0, end: float = float("inf")) -> dict[str, int]:
        """Each kind's own peak between `start` and `end`, in MB (they need not coincide)."""
        inside = [kinds for (t, _), kinds in zip(self.samples, self.by_kind) if start <= t <= end]
        return {kind: round(max((k[kind] for k in inside), default=0) / 2**20) for kind in PROCESS_KINDS}


def make_project(root: Path) -> Path:
    """A throw-away copy of the project's configuration (as bench/refresh.py)."""
    project = root / "project"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(PROJECT / "conf", project / "conf", ignore=shutil.ignore_patterns("credentials*"))
    shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()  # Kedro wants one; the package comes from the installed project
    return project


def input_file(workdir: Path, reviews: int) -> Path:
    """The review file of `reviews` rows, made once and kept in `workdir`."""
    sys.path.insert(0, str(PROJECT / "bench"))
    from make_reviews import make_reviews  # bench/make_reviews.py

    path = workdir / f"reviews_{reviews}.tsv.gz"
    if not path.exists():
        started = time.perf_counter()
        make_reviews(reviews, path, seed=0)  # written aside and renamed: never half a file
        print(f"made {path} ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - started:.0f} s")
    return path


def run_size(workdir: Path, reviews: int) -> dict:
    """One fresh process running the pipelines on `reviews` reviews: node spans and memory."""
    raw = input_file(workdir, reviews)
    project = make_project(workdir)
    timings = workdir / "node_times.json"
    timings.unlink(missing_ok=True)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MLFLOW_DISABLE_TELEMETRY": "true",
           "SPARK_LOCAL_IP": "127.0.0.1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    log_path = workdir / f"run_{reviews}.log"
    command = [sys.executable, str(Path(__file__).resolve()), "--run", str(project),
               "--raw", str(raw), "--timings", str(timings)]  # fmt: skip
    started = time.time()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
        memory = TreeMemory(process.pid)
        memory.start()
        returncode = process.wait()
        memory.stop()
    wall = time.time() - started
    if returncode != 0:
        tail = log_path.read_text()[-4000:]
        sys.exit(f"the run on {reviews:,} reviews failed (log {log_path}):\n{tail}")
    times = json.loads(timings.read_text())
    nodes = {
        name: {
            "seconds": round(end - start, 2),
            "peak_rss_mb": round(memory.peak(start, end) / 2**20),
            "peak_rss_mb_by_process": memory.peaks_by_kind(start, end),
        }
        for name, (start, end) in times["spans"].items()
    }
    return describe(reviews, project, nodes, wall, times, memory, log_path.read_text())


def describe(
    reviews: int, project: Path, nodes: dict, wall: float, times: dict, memory: TreeMemory, log: str
) -> dict:
    reporting = project / "data" / "08_reporting"
    selection = json.loads((reporting / "model_selection.json").read_text())
    return {
        "reviews": reviews,
        "wall_seconds": round(wall, 1),
        "pipeline_seconds": round(times["ended"] - times["started"], 1),
        "start_up_seconds": round(times["started"] - memory.samples[0][0], 1) if memory.samples else None,
        "peak_rss_mb": round(memory.peak() / 2**20),
        "parts": parts_of(nodes),
        "nodes": nodes,
        "model_selection": selection,
        "test_macro_f1": test_macro_f1(log),
        "memory_timeline": [(round(t - memory.samples[0][0], 1), round(rss / 2**20)) for t, rss in memory.samples[::5]],
    }


def parts_of(nodes: dict) -> dict:
    """Seconds (summed) and peak memory (the largest) of each part's nodes."""
    parts = {}
    for part, names in {**PARTS, "other": tuple(n for n in nodes if not _named(n))}.items():
        inside = [nodes[n] for n in names if n in nodes]
        parts[part] = {
            "seconds": round(sum(n["seconds"] for n in inside), 2),
            "peak_rss_mb": max((n["peak_rss_mb"] for n in inside), default=0),
            "peak_rss_mb_by_process": {
                kind: max((n.get("peak_rss_mb_by_process", {}).get(kind, 0) for n in inside), default=0)
                for kind in PROCESS_KINDS
            },
        }
    return parts


def _named(node: str) -> bool:
    return any(node in names for names in PARTS.values())


def test_macro_f1(log: str) -> dict[str, float]:
    """Each model's macro-F1 on the held-out test split, from the run summary's models line
    (`models: test macro-F1 tfidf_sublinear+logistic_regression(C=3.0) (chosen) 0.644, tfidf
    0.609, bigram 0.594`); the chosen model is `chosen`."""
    line = re.search(r"models: test macro-F1 (.*)", log)
    if line is None:
        return {}
    scores = {}
    for part in line.group(1).split(", "):
        name, _, value = part.rpartition(" ")
        scores["chosen" if name.endswith("(chosen)") else name] = float(value)
    return scores


def test_scores(row: dict) -> str:
    chosen = row["model_selection"].get("feature_set")
    scores = ", ".join(f"{name} {value:.3f}" for name, value in row["test_macro_f1"].items())
    return f"{scores}; {chosen} chosen by CV on the training split"


def print_row(row: dict) -> None:
    parts = row["parts"]
    print(
        f"{row['reviews']:>9,} {row['wall_seconds']:>7.0f} {row['peak_rss_mb']:>7,} "
        + " ".join(f"{parts[p]['seconds']:>{max(len(p), 7)}.1f}" for p in [*PARTS, "other"]),
        flush=True,
    )
    print(f"{'':>9} test macro-F1: {test_scores(row)}", flush=True)


def per_review(rows: list[dict]) -> dict:
    """Microseconds per review of each part at each size, and the largest size over the smallest."""
    table = {
        part: {str(r["reviews"]): round(r["parts"][part]["seconds"] / r["reviews"] * 1e6, 1) for r in rows}
        for part in [*PARTS, "other"]
    }
    table["wall"] = {str(r["reviews"]): round(r["wall_seconds"] / r["reviews"] * 1e6, 1) for r in rows}
    first, last = str(rows[0]["reviews"]), str(rows[-1]["reviews"])
    ratios = {part: (round(v[last] / v[first], 2) if v[first] else None) for part, v in table.items()}
    return {"microseconds_per_review": table, f"ratio_{last}_over_{first}": ratios}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["reviews"] for r in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for part in [*PARTS, "other"]:
        left.plot(sizes, [r["parts"][part]["seconds"] for r in rows], marker="o", label=part)
    left.plot(sizes, [r["wall_seconds"] for r in rows], marker="s", color="black", label="whole run")
    left.axhline(600, color="grey", linestyle="--", linewidth=1, label="10 min target")
    left.set(xscale="log", yscale="log", xlabel="reviews", ylabel="wall seconds", title="Time")
    left.legend(fontsize=7)
    right.plot(sizes, [r["peak_rss_mb"] / 1024 for r in rows], marker="s", color="black", label="whole run")
    for part in PARTS:
        right.plot(sizes, [r["parts"][part]["peak_rss_mb"] / 1024 for r in rows], marker="o", label=part)
    right.axhline(6, color="grey", linestyle="--", linewidth=1, label="6 GB target")
    right.set(xscale="log", xlabel="reviews", ylabel="peak RSS of the process tree (GB)", title="Memory")
    right.legend(fontsize=7)
    figure.suptitle("review-sentiment, kedro run on 2 cores: extraction → registration")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--with-4m", action="store_true", help="also 4,000,000 reviews")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/review-sentiment-scale"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--again-from", type=Path, metavar="RESULTS",
        help="no runs: the parts, scores, costs and plot again from RESULTS and the logs in --workdir",
    )
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timings", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_pipelines(args.run, args.raw, args.timings)
        return

    header = " ".join(f"{p:>{max(len(p), 7)}}" for p in [*PARTS, "other"])
    print(f"{'reviews':>9} {'wall s':>7} {'RSS MB':>7} {header}")
    rows = []
    if args.again_from:
        for row in json.loads(args.again_from.read_text())["runs"]:
            log = (args.workdir / f"run_{row['reviews']}.log").read_text()
            rows.append({**row, "parts": parts_of(row["nodes"]), "test_macro_f1": test_macro_f1(log)})
            print_row(rows[-1])
    else:
        args.workdir.mkdir(parents=True, exist_ok=True)
        for reviews in sorted(set(args.sizes) | ({4_000_000} if args.with_4m else set())):
            rows.append(run_size(args.workdir, reviews))
            print_row(rows[-1])
    report = {
        "what": f"kedro run --pipelines {','.join(PIPELINES)} (defaults: star_rating workforce, "
                "label-error search on, vectorizer hashing), a fresh process and project copy "
                "per size; seconds are wall seconds; peak_rss_mb is the summed RSS of the process tree (JVM included), "
                f"sampled every {SAMPLE_SECONDS} s",
        "input": "bench/make_reviews.py: headline + stars of one Amazon review, bodies of two "
                 "random others (../shared/data/reviews/amazon_us_reviews_sample)",
        "targets": {"1M wall seconds": 600, "1M peak_rss_mb": 6 * 1024},
        "parts": {part: list(nodes) for part, nodes in PARTS.items()},
        "runs": rows,
        "cost_per_review": per_review(rows) if len(rows) > 1 else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }  # fmt: skip
    write_results(args.output, report)
    plot(rows, args.output.with_suffix(".png"))
    shown = args.output.relative_to(PROJECT) if args.output.is_relative_to(PROJECT) else args.output
    print(f"wrote {shown} and {shown.with_suffix('.png')}")


if __name__ == "__main__":
    main()
