"""How much labeling the automated loop saves, and what it costs the final model.

On the 20,000 Amazon Customer Reviews in ../shared/data (research-only data: read from there,
never copied into the project), per seed: a stratified test split is taken out first; the rest is
labeled by `run_automated_labeling` with a SIMULATED workforce (star-derived labels, error rate 0
at error rate 0 the star labels are both the people's answers and the truth; at 0.1 and 0.2 a pool
of 5 simulated annotators errs at 0.5-1.5x that rate, mostly toward the neighbouring class).
Reports the share of items labeled by machine, the accuracy of the machine labels against the
truth (stars), every human answer used and how that compares with three people labeling every
item (3 x items), and the test macro-F1 of CountVectorizer(1,2) + SGDClassifier (default
settings) trained on the loop's labels vs on all true labels. Prints a table per error rate and
writes bench/results/labeling_efficiency_noisy.json (bench/results/labeling_efficiency.json is
the error-0 run of the loop before issue 9: "today" below).

Each seed draws its own test split, labeling order and simulated answers; each macro-F1 is the
mean over 5 SGD random states (one SGD fit varies by about a point). The loop's defaults were
chosen on seeds 0-4, except the TF-IDF features and threshold_z 1.0 of issue 9, which were
compared on seeds 0-9 at error 0 and 0-4 at error 0.1: the "unseen seeds" summary is unseen
only at errors 0.1 (seeds 5-9) and 0.2.

Takes about 1 minute per seed and error rate on 2 cores.

Usage: python bench/labeling_efficiency.py [--seeds 0 1 ... 9] [--error-rate 0 0.1 0.2]
           [--set calibration=sigmoid --set batch_size=250 ...]   # try other loop settings
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import yaml
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from review_sentiment.labeling.automated import run_automated_labeling
from review_sentiment.labeling.simulated import SimulatedAnnotator
from review_sentiment.params import AutomatedLabelingParams, SimulatedWorkforceParams
from review_sentiment.pipelines.data_extraction.nodes import build_input_manifest, clean_text
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
REVIEWS = PROJECT.parent / "shared" / "data" / "reviews" / "amazon_us_reviews_sample"
RESULTS = PROJECT / "bench" / "results" / "labeling_efficiency_noisy.json"
CONFIGURED = PROJECT / "conf" / "base" / "parameters_labeling.yml"
# The loop before issue 9 (point-estimate threshold, error rate 0): what "no worse" is against.
TODAY = PROJECT / "bench" / "results" / "labeling_efficiency.json"
CLASSES = ["positive", "negative", "neutral"]
STARS = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
TEST_SIZE = 0.2
TARGETS = {"machine_share": 0.70, "machine_accuracy": 0.95, "macro_f1_gap": 0.01}
# Issue 9, on every seed: at 0.1 >= 60% machine at >= 0.95 with fewer answers than 3 x items / 2;
# at 0.2 the accuracy target or an early stop saying why.
NOISY_TARGETS = {"machine_share": 0.60, "machine_accuracy": 0.95, "answers_vs_three_each": 0.5}
# The seeds the loop's default settings were chosen on (see AutomatedLabelingParams).
TUNED_ON = (0, 1, 2, 3, 4)


def load_reviews() -> pd.DataFrame:
    """Both CSVs: text = headline + ". " + body, cleaned; empty and duplicate texts dropped."""
    files = sorted(REVIEWS.glob("*.csv"))
    if len(files) != 2:
        sys.exit(f"expected the two Amazon review CSVs in {REVIEWS}, found {len(files)}")
    raw = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    headline = raw["review_headline"].fillna("").astype(str)
    text = headline + ". " + raw["review_body"].fillna("").astype(str)
    reviews = pd.DataFrame(
        {
            "review_id": raw["review_id"].astype(str),
            "text": text.map(clean_text),
            "star_rating": raw["star_rating"].astype(int),
            "product_category": raw["product_category"].fillna("").astype(str),
        }
    )
    # Headline and body both empty leave only the joining ". ".
    reviews = reviews[reviews["text"].ne("") & reviews["text"].ne(".")]
    reviews = reviews.drop_duplicates("text").reset_index(drop=True)
    reviews["truth"] = reviews["star_rating"].map(STARS)
    return reviews


def macro_f1(train_texts, train_labels, test: pd.DataFrame, fits: int) -> float:
    """Test macro-F1 of CountVectorizer(1,2) + SGDClassifier (default settings), averaged over
    `fits` SGD random states: one SGD fit varies by about a point, the size of the effect."""
    vectorizer = CountVectorizer(ngram_range=(1, 2))
    train = vectorizer.fit_transform(list(train_texts))
    test_features = vectorizer.transform(list(test["text"]))
    scores = []
    for state in range(fits):
        classifier = SGDClassifier(random_state=state).fit(train, list(train_labels))
        scores.append(f1_score(test["truth"], classifier.predict(test_features), average="macro"))
    return float(statistics.mean(scores))


def run_seed(
    reviews: pd.DataFrame, seed: int, params: AutomatedLabelingParams, error_rate: float, fits: int
) -> dict:
    pool, test = train_test_split(
        reviews, test_size=TEST_SIZE, random_state=seed, stratify=reviews["truth"]
    )
    pool, test = pool.reset_index(drop=True), test.reset_index(drop=True)
    items = build_input_manifest(pool)
    # The default pool (SimulatedWorkforceParams): 5 annotators, error rates 0.5-1.5x the mean,
    # 80% of a positive/negative item's errors are neutral.
    humans = SimulatedAnnotator(SimulatedWorkforceParams(error_rate=error_rate, seed=seed))

    started = time.perf_counter()
    params = params.model_copy(update={"seed": seed})
    result = run_automated_labeling(items, CLASSES, humans, params)
    seconds = time.perf_counter() - started

    answers = list(zip(result.labels, pool["truth"], strict=True))
    machine = [(got.class_name, t) for got, t in answers if got and not got.human_annotated]
    human = [(got.class_name, t) for got, t in answers if got and got.human_annotated]
    labeled = [(text, got.class_name) for text, (got, _) in zip(pool["text"], answers) if got]
    texts, labels = zip(*labeled, strict=True)
    f1_loop = macro_f1(texts, labels, test, fits)
    f1_true = macro_f1(pool["text"], pool["truth"], test, fits)
    by_class = {
        name: {
            "machine_labels": sum(1 for got, _ in machine if got == name),
            "accuracy": _accuracy([(got, t) for got, t in machine if got == name]),
        }
        for name in CLASSES
    }
    answers_used = result.iterations[-1]["human_answers"] if result.iterations else 0
    last = result.iterations[-1] if result.iterations else {}
    return {
        "seed": seed,
        "error_rate": error_rate,
        "workforce": humans.name,
        "human_answers": answers_used,
        "three_each": 3 * len(pool),
        "answers_vs_three_each": answers_used / (3 * len(pool)),
        "answers_per_machine_label": answers_used / len(machine) if machine else None,
        "annotator_accuracy_estimate": last.get("annotator_accuracy"),
        "annotator_error_rates": [float(rate) for rate in humans.error_rates],
        "pool_items": len(pool),
        "test_items": len(test),
        "machine_labeled": len(machine),
        "machine_share": len(machine) / len(pool),
        "machine_accuracy": _accuracy(machine),
        "human_labels": len(human),
        "human_sent": result.human_sent,
        "human_accuracy": _accuracy(human),
        "unlabeled": result.unlabeled,
        "iterations": len(result.iterations),
        "stopped": result.stopped,
        "reason": result.reason,
        "macro_f1_loop_labels": f1_loop,
        "macro_f1_true_labels": f1_true,
        "macro_f1_gap": f1_true - f1_loop,
        "machine_labels_by_class": by_class,
        # truth -> machine label -> count: where the machine's mistakes go
        "machine_confusion": {
            t: {name: sum(1 for got, tt in machine if tt == t and got == name) for name in CLASSES}
            for t in CLASSES
        },
        "labeling_seconds": seconds,
        "per_iteration": result.iterations,
    }


def _accuracy(pairs) -> float | None:
    return sum(got == truth for got, truth in pairs) / len(pairs) if pairs else None


def _summary(runs: list[dict]) -> dict:
    averaged = (
        "machine_share", "machine_accuracy", "human_labels", "human_answers", "answers_vs_three_each",
        "macro_f1_loop_labels", "macro_f1_true_labels", "macro_f1_gap",
    )
    # Runs without machine labels have no machine accuracy: left out of its mean, not zero.
    known = {key: [run[key] for run in runs if run[key] is not None] or [0] for key in averaged}
    mean = {key: statistics.mean(values) for key, values in known.items()}
    return {
        "seeds": [run["seed"] for run in runs],
        "mean": mean,
        "min": {key: min(values) for key, values in known.items()},
        "max": {key: max(values) for key, values in known.items()},
        "met_on_mean": {key: _meets(key, mean[key]) for key in TARGETS},
        "met_on_every_seed": {key: all(_meets(key, run[key]) for run in runs) for key in TARGETS},
    }


def _meets(key: str, value: float | None) -> bool:
    if key == "macro_f1_gap":
        return value is not None and value <= TARGETS[key]
    return value is not None and value >= TARGETS[key]


def _today() -> dict[int, dict]:
    """The pre-issue-9 error-0 runs by seed (machine share and accuracy), if recorded."""
    if not TODAY.exists():
        return {}
    return {run["seed"]: run for run in json.loads(TODAY.read_text())["runs"]}


def _issue9_targets(run: dict, today: dict[int, dict]) -> dict[str, bool | None]:
    """Issue 9's targets for one run (None: no figure to compare with)."""
    share, accuracy = run["machine_share"], run["machine_accuracy"]
    accurate = accuracy is not None and accuracy >= NOISY_TARGETS["machine_accuracy"]
    if run["error_rate"] == 0:
        before = today.get(run["seed"])
        return {
            "machine_share_no_worse_than_today": None if before is None
            else share >= before["machine_share"],
            "machine_accuracy_no_worse_than_today": None if before is None
            else (accuracy or 0) >= min(before["machine_accuracy"], NOISY_TARGETS["machine_accuracy"]),
        }
    if run["error_rate"] <= 0.1:
        return {
            "machine_share": share >= NOISY_TARGETS["machine_share"],
            "machine_accuracy": accurate,
            "answers_below_half_of_three_each": run["answers_vs_three_each"]
            < NOISY_TARGETS["answers_vs_three_each"],
        }
    stopped = run["stopped"].startswith("cannot work")
    return {"accurate_or_stopped_saying_why": (accurate and share > 0) or (share == 0 and stopped)}


def _targets_met(runs: list[dict], error_rate: float, today: dict[int, dict]) -> dict[str, bool]:
    """Issue 9's targets over all seeds: each per-seed target on every seed and, at error 0, the
    mean against today's mean (the issue's "75% at 0.957 mean")."""
    met = {
        key: all(run["issue9_targets"][key] is not False for run in runs)
        for key in runs[0]["issue9_targets"]
    }
    if error_rate == 0 and today:
        for key in ("machine_share", "machine_accuracy"):
            ours = statistics.mean(run[key] or 0 for run in runs)
            before = statistics.mean(run[key] for run in today.values())
            met[f"mean_{key}_no_worse_than_today"] = ours >= before
    met["seeds_below_target_accuracy"] = sum(
        run["machine_accuracy"] is not None
        and run["machine_accuracy"] < NOISY_TARGETS["machine_accuracy"]
        for run in runs
    )
    return met


def resummarise(path: Path) -> None:
    """Recomputes the targets of a results file from its runs (after a change to the rules)."""
    results = json.loads(path.read_text())
    today = _today()
    for rate, block in results["by_error_rate"].items():
        for run in block["runs"]:
            run["issue9_targets"] = _issue9_targets(run, today)
        block["issue9_targets_met_on_every_seed"] = _targets_met(block["runs"], float(rate), today)
        print(f"error rate {rate}: {block['issue9_targets_met_on_every_seed']}")
    write_results(path, results)


def _configured() -> dict:
    """The loop's settings as conf/base/parameters_labeling.yml configures them (who the people
    are is the bench's business: the simulated pool)."""
    settings = yaml.safe_load(CONFIGURED.read_text())["labeling"]["automated"]
    return {key: value for key, value in settings.items() if key != "humans"}


def _setting(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # a bare word such as sigmoid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--sgd-fits", type=int, default=5, help="SGD random states per F1")
    parser.add_argument(
        "--error-rate", "--error-rates", dest="error_rates", type=float, nargs="+",
        default=[0.0, 0.1, 0.2], help="mean error rates of the simulated annotator pool",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="an AutomatedLabelingParams field, value in JSON (e.g. threshold_z=1.0)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--resummarise", action="store_true",
        help="recompute the targets of --output from its recorded runs, without running",
    )
    args = parser.parse_args()
    if args.resummarise:
        resummarise(args.output)
        return
    logging.basicConfig(level=logging.WARNING)
    # One line per simulated batch would drown the table; the JSON says the labels are simulated.
    logging.getLogger("review_sentiment.labeling.simulated").setLevel(logging.ERROR)
    logging.getLogger("review_sentiment.labeling.automated").setLevel(logging.ERROR)

    overrides = dict(_setting(text) for text in args.set)
    params = AutomatedLabelingParams(**{**_configured(), **overrides})
    today = _today()

    started = time.perf_counter()
    reviews = load_reviews()
    print(
        f"{len(reviews)} reviews after cleaning and de-duplication; classes "
        f"{reviews['truth'].value_counts().to_dict()}; SIMULATED annotator pool, "
        f"error rates {args.error_rates}; settings changed: {overrides or 'none'}"
    )
    by_rate = {}
    for error_rate in args.error_rates:
        print(f"\nerror rate {error_rate}")
        print(
            f"{'seed':>4} {'machine %':>9} {'machine acc':>11} {'answers':>8} {'/3xitems':>8} "
            f"{'ans/machine':>11} {'iters':>5} {'F1 loop':>8} {'F1 true':>8} {'gap':>6} {'secs':>6}"
        )
        runs = []
        for seed in args.seeds:
            run = run_seed(reviews, seed, params, error_rate, args.sgd_fits)
            run["issue9_targets"] = _issue9_targets(run, today)
            runs.append(run)
            per_machine = run["answers_per_machine_label"]
            print(
                f"{seed:>4} {100 * run['machine_share']:>8.1f}% {run['machine_accuracy'] or 0:>11.4f} "
                f"{run['human_answers']:>8} {run['answers_vs_three_each']:>8.3f} "
                f"{'-' if per_machine is None else f'{per_machine:.3f}':>11} {run['iterations']:>5} "
                f"{run['macro_f1_loop_labels']:>8.4f} {run['macro_f1_true_labels']:>8.4f} "
                f"{100 * run['macro_f1_gap']:>5.2f}p {run['labeling_seconds']:>6.1f}"
            )
            if run["reason"]:
                print(f"     {run['stopped']}")
        summaries = {
            name: _summary(group)
            for name, group in {
                "all seeds": runs,
                "tuned-on seeds": [run for run in runs if run["seed"] in TUNED_ON],
                "unseen seeds": [run for run in runs if run["seed"] not in TUNED_ON],
            }.items()
            if group
        }
        met = _targets_met(runs, error_rate, today)
        mean = summaries["all seeds"]["mean"]
        print(
            f"mean ({len(runs)} seeds): {100 * mean['machine_share']:.1f}% machine, accuracy "
            f"{mean['machine_accuracy']:.4f}, {mean['human_answers']:.0f} answers "
            f"({mean['answers_vs_three_each']:.3f} of 3 x items), F1 gap "
            f"{100 * mean['macro_f1_gap']:.2f} points; issue 9 targets on every seed: {met}"
        )
        by_rate[str(error_rate)] = {
            "summaries": summaries, "issue9_targets_met_on_every_seed": met, "runs": runs,
        }
    total = time.perf_counter() - started
    print(f"total {total:.0f} s")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "workforce": "SIMULATED annotator pool: star-derived labels, no person involved",
                "error_rates": args.error_rates,
                "annotator_pool": SimulatedWorkforceParams().model_dump(exclude={"seed", "error_rate"}),
                "data": str(REVIEWS.relative_to(PROJECT.parent)),
                "reviews": len(reviews),
                "test_size": TEST_SIZE,
                "sgd_fits_per_f1": args.sgd_fits,
                "params": {**params.model_dump(), "seed": "each run's seed"},
                "targets": {"error 0": "no worse than today (bench/results/labeling_efficiency.json)",
                            "error <= 0.1": NOISY_TARGETS,
                            "error 0.2": "machine accuracy >= 0.95, or nothing machine-labeled "
                                         "and stopped early saying why"},
                "settings_chosen_on_seeds": list(TUNED_ON),
                "by_error_rate": by_rate,
                "total_seconds": total,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            },
            indent=2,
        )
        + "\n"
    )
    shown = args.output.relative_to(PROJECT) if args.output.is_relative_to(PROJECT) else args.output
    print(f"wrote {shown}")


if __name__ == "__main__":
    main()
