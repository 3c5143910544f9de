"""What the Kedro pipelines cost over a plain script doing the same work.

Times (a) `kedro run` of data_extraction → labeling → feature_engineering → training and (b)
`bench/plain_seed.py`, each a fresh process, alternating, on the 20,000 Amazon Customer Reviews
in ../shared/data (research-only data: read from there, never copied into the project). Prints the
medians and the ratio a/b and writes them to bench/results/pipeline_overhead.json.

The same work on both sides: the label-error search the labeling pipeline adds (cleanlab on
5-fold out-of-sample probabilities, which the seed never did) is switched off for (a), and
training's space holds the seed's two models only (training.search without the shipped
logistic regression, in the timed project copy); (a) is then timed once more, in another copy,
with the project's defaults and reported apart.

Usage: python bench/pipeline_overhead.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
REVIEWS = PROJECT.parent / "shared" / "data" / "reviews" / "amazon_us_reviews_sample"
RESULTS = PROJECT / "bench" / "results" / "pipeline_overhead.json"
PIPELINES = "data_extraction,labeling,feature_engineering,training"


def make_kedro_project(root: Path, raw_csv: Path, *, seed_models_only: bool) -> Path:
    """A throw-away copy of the project's configuration, reading the Amazon columns; with
    `seed_models_only`, training's space holds the seed's two models only."""
    project = root / "kedro_project"
    shutil.copytree(PROJECT / "conf", project / "conf", ignore=shutil.ignore_patterns("credentials*"))
    shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
    # Kedro insists on a src/ inside the project; the package itself comes from the install.
    (project / "src").mkdir()
    for layer in ("01_raw", "03_primary", "04_feature", "05_model_input", "08_reporting"):
        (project / "data" / layer).mkdir(parents=True, exist_ok=True)
    params_file = project / "conf" / "base" / "parameters_data_extraction.yml"
    params = yaml.safe_load(params_file.read_text())
    # The code's defaults are the Amazon Customer Reviews column names.
    params["data_extraction"].pop("columns")
    params_file.write_text(yaml.safe_dump(params))
    if seed_models_only:
        # In the copy's base: parameters merge softly across environments, so an environment
        # could add candidates but never empty the space.
        training_file = project / "conf" / "base" / "parameters_training.yml"
        training = yaml.safe_load(training_file.read_text())
        training["training"]["search"].update(classifiers={}, candidates={})
        training_file.write_text(yaml.safe_dump(training))
    return project


def time_command(command: list[str], cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not REVIEWS.exists():
        sys.exit(f"{REVIEWS} is not here: this benchmark reads the workspace's shared data")

    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "SPARK_LOCAL_IP": "127.0.0.1",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        root = Path(tmp)
        raw_csv = root / "amazon_reviews_20k.csv"
        pd.concat(pd.read_csv(path) for path in sorted(REVIEWS.glob("*.csv"))).to_csv(raw_csv, index=False)
        kedro_default = [str(bin_dir / "kedro"), "run", "--pipelines", PIPELINES,
                         "--params", f"raw_reviews_path={raw_csv}"]
        kedro = [*kedro_default[:-1], f"{kedro_default[-1]},labeling.label_issues.enabled=false"]

        # Every run is a first run, on both sides: a fresh project copy (no labeled set, no
        # registry, so training registers, as the plain script always does) and a fresh folder.
        kedro_times, plain_times = [], []
        for run in range(1, args.runs + 1):
            project = make_kedro_project(root / f"run_{run}", raw_csv, seed_models_only=True)
            kedro_times.append(time_command(kedro, project, env))
            plain = [sys.executable, str(PROJECT / "bench" / "plain_seed.py"), str(raw_csv),
                     str(root / f"run_{run}" / "plain")]
            plain_times.append(time_command(plain, root, env))
            print(f"run {run}: kedro {kedro_times[-1]:.1f} s, plain {plain_times[-1]:.1f} s", flush=True)
        defaults = make_kedro_project(root / "defaults", raw_csv, seed_models_only=False)
        default_seconds = time_command(kedro_default, defaults, env)
        print(f"kedro with the label-error search (the default): {default_seconds:.1f} s", flush=True)

    kedro_median = statistics.median(kedro_times)
    plain_median = statistics.median(plain_times)
    result = {
        "what": "wall seconds, fresh process each, extraction → labeling → features → training; "
                "every run a first run (a fresh project copy or folder: no labeled set, no "
                "registry); kedro without the label-error search and with the seed's two models "
                "as the only candidates, as the plain script; kedro_default_seconds: the shipped "
                "defaults",
        "reviews": 20000,
        "runs": args.runs,
        "kedro_seconds": [round(t, 2) for t in kedro_times],
        "plain_seconds": [round(t, 2) for t in plain_times],
        "kedro_median": round(kedro_median, 2),
        "plain_median": round(plain_median, 2),
        "ratio": round(kedro_median / plain_median, 3),
        "kedro_default_seconds": round(default_seconds, 2),
        "target_ratio": 1.2,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    write_results(RESULTS, result)
    print(f"kedro median {kedro_median:.1f} s, plain median {plain_median:.1f} s, "
          f"ratio {result['ratio']:.3f} (target <= 1.2); written to {RESULTS.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
