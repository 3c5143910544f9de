"""How fast the served champion answers: MLflow's scoring server (`LocalModelServer`, as `make
serve` runs it) measured with `wrk` on 127.0.0.1.

For one worker and for workers = cores, with one connection and with 50, it POSTs single reviews
(`{"inputs": ["…"]}`) and batches of 100 reviews, and reports requests/s, reviews/s and latency
p50/p99 (medians of the repeated runs, each run listed). Runs alternate between the models given,
so two models (say the champion before and after a change) are measured side by side under the
same load. Every answer must be HTTP 200: a run with any other answer fails the bench. The texts
are the bundled Fine Food reviews. Prints a table and writes bench/results/serving.json.

Needs `wrk` (`apt-get install -y wrk`). About 2.5 minutes with the defaults for one model.

Usage: python bench/serving.py [--model champion=models:/review-sentiment@champion ...]
           [--tracking-uri sqlite:///mlruns.db] [--duration 5] [--repeats 3] [--output PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
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
import requests

from review_sentiment.serving import LocalModelServer
from results_file import write_results

PROJECT = Path(__file__).resolve().parents[1]
REVIEWS = PROJECT / "data" / "01_raw" / "fine_food_reviews_1k.csv"
RESULTS = PROJECT / "bench" / "results" / "serving.json"
BATCH = 100
CONNECTIONS = (1, 50)
# wrk prints one JSON line when it is done: totals and latency percentiles in microseconds.
DONE_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def write_scripts(folder: Path, texts: list[str]) -> dict[str, Path]:
    """One wrk Lua script per payload: the POST body, the JSON header, and the summary above."""
    bodies = {"single": {"inputs": texts[:1]}, f"batch_{BATCH}": {"inputs": texts[:BATCH]}}
    scripts = {}
    for name, body in bodies.items():
        script = folder / f"{name}.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {lua_string(json.dumps(body))}\n{DONE_LUA}"
        )
        scripts[name] = script
    return scripts


def lua_string(text: str) -> str:
    """A Lua long string that no review text can close early."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def run_wrk(url: str, script: Path, connections: int, seconds: float, texts_per_request: int) -> dict:
    threads = min(connections, os.cpu_count() or 1)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "-s", str(script),
               f"{url}/invocations"]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    summary = json.loads([line for line in output.splitlines() if line.startswith("{")][-1])
    if summary["non_2xx"] or summary["socket_errors"] or not summary["requests"]:
        sys.exit(f"wrk against {url} ({script.name}, {connections} connections): {summary}\n{output}")
    per_second = summary["requests"] / (summary["duration_us"] / 1e6)
    return {
        "requests_per_s": round(per_second, 1),
        "reviews_per_s": round(per_second * texts_per_request),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
    }


def median_of(runs: list[dict]) -> dict:
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", metavar="NAME=URI",
                        help="a model to serve (repeatable); default: champion=models:/review-sentiment@champion")
    parser.add_argument("--tracking-uri", default="sqlite:///mlruns.db")
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}))
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    models = dict(item.split("=", 1) for item in args.model or ["champion=models:/review-sentiment@champion"])
    texts = pd.read_csv(REVIEWS)["Text"].dropna().head(BATCH).tolist()
    payload_rows = {"single": 1, f"batch_{BATCH}": BATCH}
    runs: dict[tuple, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as folder:
        scripts = write_scripts(Path(folder), texts)
        for workers in args.workers:
            servers = {
                name: LocalModelServer(uri, tracking_uri=args.tracking_uri, workers=workers).start()
                for name, uri in models.items()
            }
            try:
                for server in servers.values():  # every worker loads the model before the clock runs
                    for _ in range(10 * workers):
                        requests.post(f"{server.url}/invocations", json={"inputs": texts[:1]}, timeout=60)
                for _, payload, connections, (name, server) in itertools.product(
                    range(args.repeats), scripts, CONNECTIONS, servers.items()
                ):
                    result = run_wrk(server.url, scripts[payload], connections, args.duration, payload_rows[payload])
                    runs.setdefault((name, workers, connections, payload), []).append(result)
                    print(f"{name:>10} workers={workers} connections={connections:>2} {payload:>9}: {result}", flush=True)
            finally:
                for server in servers.values():
                    server.stop()

    table = [
        {"model": name, "workers": workers, "connections": connections, "payload": payload,
         "median": median_of(results), "runs": results}
        for (name, workers, connections, payload), results in sorted(runs.items())
    ]  # fmt: skip
    print(f"\nmedians of {args.repeats} runs of {args.duration:g} s each")
    print(f"{'model':>10} {'workers':>7} {'conns':>5} {'payload':>9} {'req/s':>9} {'reviews/s':>10} {'p50 ms':>7} {'p99 ms':>7}")
    for row in table:
        m = row["median"]
        print(f"{row['model']:>10} {row['workers']:>7} {row['connections']:>5} {row['payload']:>9} "
              f"{m['requests_per_s']:>9,.0f} {m['reviews_per_s']:>10,.0f} {m['p50_ms']:>7} {m['p99_ms']:>7}")  # fmt: skip
    write_results(args.output, {
        "what": "MLflow scoring server (mlflow models serve) on 127.0.0.1 under wrk; single = one review per "
                f"request, batch_{BATCH} = {BATCH} reviews per request; medians of repeated runs",
        "models": models,
        "duration_s": args.duration,
        "repeats": args.repeats,
        "results": table,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }, indent=1)  # fmt: skip
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
