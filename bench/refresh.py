"""What each refresh round costs as reviews keep arriving, and what it buys.

The 20,000 Amazon Customer Reviews in ../shared/data (research-only data: read from there, never
copied into the project; the arrival files live in a throw-away project copy under /tmp) arrive in
five files of 4,000 (seeded shuffle of both CSVs), one per round, in a fresh copy of the project's
configuration; each round is `kedro run --pipelines refresh` in a fresh process, with the SIMULATED
workforce: automated labeling whose people are the simulated annotator pool
(`labeling.workforce=automated`, `labeling.automated.humans=simulated`, star-derived answers,
error rate 0 unless --error-rate), as bench/labeling_efficiency.py; `--workforce simulated` has
the pool answer every review instead.

Per round it prints and records the new reviews, the labels asked of people (reviews labeled by
people and their answers), the candidate's and the champion's macro-F1 on the frozen test set,
whether the champion moved and McNemar's p, the wall seconds of every node and of the whole
process, and its peak RSS (`/usr/bin/time -v`). Writes bench/results/refresh.json with the growth
of each part (round N / round 1): extraction and labeling should follow the new reviews (flat),
retraining follows every label so far.

A round is run in-process (`KedroSession`, as `kedro run` does) by this script itself
(`--run-round`), with one more hook that records every node's wall time; Kedro has no
per-node timing output to read, and the run summary names the slowest three only.

Takes about 10 minutes on 2 cores.

Usage: python bench/refresh.py [--rounds 5] [--batch 4000] [--seed 0] [--workforce automated]
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
import tempfile
import time
from pathlib import Path

import pandas as pd
from kedro.framework.hooks import hook_impl
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
REVIEWS = PROJECT.parent / "shared" / "data" / "reviews" / "amazon_us_reviews_sample"
RESULTS = PROJECT / "bench" / "results" / "refresh.json"
TIME = Path("/usr/bin/time")
# The parts of a round the issue asks about, by node (pipelines/refresh/pipeline.py).
PARTS = {
    "extraction": ("read_arrivals", "select_new_reviews", "build_refresh_input_manifest"),
    "labeling": ("label_new_reviews",),
    "label rounds": ("collect_refresh_labeled_set", "append_refresh_label_round"),
    "training": (
        "freeze_test_set", "refresh_training_split", "refresh.build_bigram_features",
        "refresh.build_tfidf_features", "refresh.search_models", "refresh.report_model_search",
        "refresh.log_candidate_runs", "refresh.bigram.fit_classifier", "refresh.tfidf.fit_classifier",
        "refresh.build_bigram_model", "refresh.build_tfidf_model", "refresh.fit_chosen_model",
        "refresh.bigram.evaluate_on_training_set", "refresh.bigram.evaluate_on_test_set",
        "refresh.tfidf.evaluate_on_training_set", "refresh.tfidf.evaluate_on_test_set",
        "refresh.evaluate_chosen_model", "describe_refresh_candidate",
    ),
    "gate": ("decide_champion",),
    "deployment": ("redeploy_if_promoted",),
}
WORKFORCES = {
    "automated": {"workforce": "automated", "automated": {"humans": "simulated"}},
    "simulated": {"workforce": "simulated"},
}


# --- one round, in the kedro process ----------------------------------------------------------


class NodeTimes:
    """Wall seconds of every node, and the outputs the bench reads that no file keeps."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.human_answers: float | None = None
        self._started: dict[str, float] = {}

    @hook_impl
    def before_node_run(self, node) -> None:
        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node, outputs) -> None:
        self.seconds[node.name] = time.perf_counter() - self._started.pop(node.name)
        # The loop's answers from people (labeling_iterations goes to MLflow only).
        history = (outputs.get("labeling_iterations") or {}).get("human_answers")
        if history:
            self.human_answers = history[-1]["value"]


def run_round(project: Path, params: dict, timings: Path) -> None:
    """`kedro run --pipelines refresh --params …` in this process, node times to `timings`."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    timer = NodeTimes()
    os.chdir(project)
    bootstrap_project(project)
    started = time.perf_counter()
    with KedroSession.create(project_path=project, runtime_params=params) as session:
        # Kedro has no --hooks option; settings.py's hooks run as always, this one as well.
        session._hook_manager.register(timer)
        session.run(pipeline_names=["refresh"])
    timings.write_text(json.dumps({
        "node_seconds": timer.seconds, "human_answers": timer.human_answers,
        "run_seconds": time.perf_counter() - started,
    }))  # fmt: skip


# --- the bench ----------------------------------------------------------------------------------


def make_project(root: Path) -> Path:
    """A throw-away copy of the project's configuration (as tests/test_refresh_end_to_end.py)."""
    project = root / "refresh-project"
    shutil.copytree(PROJECT / "conf", project / "conf", ignore=shutil.ignore_patterns("credentials*"))
    shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()  # Kedro wants one; the package comes from the installed project
    (project / "data/01_raw/arrivals").mkdir(parents=True)
    return project


def arrival_batches(rounds: int, batch: int, seed: int) -> list[pd.DataFrame]:
    """Both CSVs as delivered (same columns), shuffled with `seed`, cut into `rounds` batches."""
    files = sorted(REVIEWS.glob("*.csv"))
    if len(files) != 2:
        sys.exit(f"expected the two Amazon review CSVs in {REVIEWS}, found {len(files)}")
    reviews = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in files], ignore_index=True)
    if rounds * batch > len(reviews):
        sys.exit(f"{rounds} x {batch} reviews asked, {len(reviews)} in {REVIEWS}")
    reviews = reviews.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return [reviews.iloc[i * batch : (i + 1) * batch] for i in range(rounds)]


def timed_round(project: Path, params: dict) -> tuple[dict, float, int, str]:
    """Runs one round in a fresh process under /usr/bin/time -v: node times, wall seconds, peak
    RSS (kB) and the log."""
    timings = project / "bench_node_times.json"
    command = [
        str(TIME), "-v", sys.executable, str(Path(__file__).resolve()),
        "--run-round", str(project), "--timings", str(timings), "--params-json", json.dumps(params),
    ]  # fmt: skip
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MLFLOW_DISABLE_TELEMETRY": "true",
           "SPARK_LOCAL_IP": "127.0.0.1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    log = done.stdout + done.stderr
    if done.returncode != 0:
        sys.exit(f"refresh round failed:\n{log[-5000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return json.loads(timings.read_text()), seconds, int(rss.group(1)) if rss else 0, log


def describe_round(number: int, summary: dict, times: dict, seconds: float, rss_kb: int) -> dict:
    new, labeling, decision = summary["new_reviews"], summary["labeling"], summary["decision"]
    nodes = times["node_seconds"]
    gate = decision.get("gate") or {}
    people = labeling.get("labeled_by_people", 0)
    return {
        "round": number,
        "reviews_arrived_so_far": new["reviews_arrived"],
        "new_reviews": new["new_reviews"],
        "seen_before": new["seen_before"],
        "dropped_in_cleaning": new["dropped_in_cleaning"],
        "labeled_by_people": people,
        "labeled_by_machine": labeling.get("labeled_by_machine", 0),
        # Answers from the (simulated) people: validation items take several each.
        "human_answers": int(times["human_answers"]) if times["human_answers"] is not None else people,
        "labels_so_far": summary["labeled_set"]["items"],
        "train_size": summary["candidate"].get("train_size"),
        "frozen_test_size": summary["test_set"]["reviews"],
        "feature_set": decision.get("feature_set"),
        "candidate_macro_f1": decision.get("macro_f1"),
        "champion_macro_f1": decision.get("previous_champion_macro_f1"),
        "champion_moved": bool(decision.get("promoted")),
        "champion_version": decision.get("champion_version"),
        "mcnemar_p": gate.get("p_value"),
        "deployed": bool(summary["deployment"].get("deployed")),
        "line": summary["line"],
        "part_seconds": {part: sum(nodes.get(n, 0.0) for n in names) for part, names in PARTS.items()},
        "node_seconds": nodes,
        "pipeline_seconds": times["run_seconds"],
        "process_seconds": seconds,
        "peak_rss_mb": round(rss_kb / 1024, 1),
    }


def growth(rounds: list[dict]) -> dict:
    """Last round's seconds over the first's, per part and per node (None when the first is ~0)."""
    first, last = rounds[0], rounds[-1]

    def ratio(a: float, b: float) -> float | None:
        return round(b / a, 2) if a > 0.005 else None

    return {
        "labels_so_far": ratio(first["labels_so_far"], last["labels_so_far"]),
        "new_reviews": ratio(first["new_reviews"], last["new_reviews"]),
        "parts": {p: ratio(first["part_seconds"][p], last["part_seconds"][p]) for p in PARTS},
        "nodes": {n: ratio(s, last["node_seconds"].get(n, 0.0)) for n, s in first["node_seconds"].items()},
        "process_seconds": ratio(first["process_seconds"], last["process_seconds"]),
        "peak_rss_mb": ratio(first["peak_rss_mb"], last["peak_rss_mb"]),
    }


def print_round(row: dict) -> None:
    parts = row["part_seconds"]
    f1 = lambda value: "-" if value is None else f"{value:.3f}"  # noqa: E731
    p = "-" if row["mcnemar_p"] is None else f"{row['mcnemar_p']:.2g}"
    print(
        f"{row['round']:>5} {row['new_reviews']:>6} {row['labels_so_far']:>7} {row['labeled_by_people']:>6} "
        f"{row['human_answers']:>7} {f1(row['candidate_macro_f1']):>6} {f1(row['champion_macro_f1']):>6} "
        f"{'yes' if row['champion_moved'] else 'no':>5} {p:>7} "
        + " ".join(f"{parts[part]:>{max(len(part), 6)}.1f}" for part in PARTS)
        + f" {row['process_seconds']:>6.1f} {row['peak_rss_mb']:>7.0f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4000, help="reviews per arrival file")
    parser.add_argument("--seed", type=int, default=0, help="of the shuffle into arrival files")
    parser.add_argument("--workforce", choices=sorted(WORKFORCES), default="automated")
    parser.add_argument("--error-rate", type=float, default=0.0, help="of the simulated annotator pool")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--run-round", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timings", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--params-json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_round:
        run_round(args.run_round, json.loads(args.params_json), args.timings)
        return
    if not REVIEWS.exists():
        sys.exit(f"{REVIEWS} is not here: this benchmark reads the workspace's shared data")
    if not TIME.exists():
        sys.exit(f"{TIME} is not here: it measures each round's peak RSS (apt-get install time)")

    labeling = {**WORKFORCES[args.workforce], "simulated": {"error_rate": args.error_rate}}
    params = {"labeling": labeling}
    print(
        f"{args.rounds} arrival files of {args.batch} Amazon reviews (shuffle seed {args.seed}); "
        f"SIMULATED workforce: labeling {json.dumps(labeling)}"
    )
    header = " ".join(f"{part:>{max(len(part), 6)}}" for part in PARTS)
    print(
        f"{'round':>5} {'new':>6} {'labels':>7} {'people':>6} {'answers':>7} {'F1 new':>6} {'F1 old':>6} "
        f"{'moved':>5} {'p':>7} {header} {'total':>6} {'RSS MB':>7}"
    )
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-refresh-") as tmp:
        project = make_project(Path(tmp))
        for number, batch in enumerate(arrival_batches(args.rounds, args.batch, args.seed), start=1):
            batch.to_csv(project / f"data/01_raw/arrivals/arrival-{number}.csv.gz", index=False)
            times, seconds, rss_kb, _ = timed_round(project, params)
            summary = json.loads((project / "data/08_reporting/refresh_summary.json").read_text())
            rows.append(describe_round(number, summary, times, seconds, rss_kb))
            print_round(rows[-1])
    total = time.perf_counter() - started
    ratios = growth(rows)
    print(f"round {len(rows)} / round 1: labels so far x{ratios['labels_so_far']}, " + ", ".join(
        f"{part} x{ratio}" for part, ratio in ratios["parts"].items()
    ) + f", whole process x{ratios['process_seconds']}; {total:.0f} s in all")  # fmt: skip

    write_results(args.output, {
        "what": "kedro run --pipelines refresh per arrival file, fresh process each; seconds are wall "
                "seconds per node (parts: sums of nodes), process = the whole kedro process",
        "workforce": f"SIMULATED: labeling {json.dumps(labeling)} (star-derived answers, no person "
                     "involved)",
        "data": str(REVIEWS.relative_to(PROJECT.parent)),
        "rounds": args.rounds, "batch": args.batch, "shuffle_seed": args.seed,
        "parts": {part: list(nodes) for part, nodes in PARTS.items()},
        "per_round": rows,
        "growth_last_over_first": ratios,
        "total_seconds": round(total, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    })  # fmt: skip
    shown = args.output.relative_to(PROJECT) if args.output.is_relative_to(PROJECT) else args.output
    print(f"wrote {shown}")


if __name__ == "__main__":
    main()
