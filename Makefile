# Set-up and day-to-day commands. `make run` installs everything into .venv and runs the whole
# flow on the bundled data; `make test` runs the test suite. CI (.ci/run) runs exactly these.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Usage telemetry off: settings.py does it for every kedro command; these cover what make starts
# without Kedro (the scoring server, `mlflow models generate-dockerfile`, the bench scripts).
export KEDRO_DISABLE_TELEMETRY := 1
export MLFLOW_DISABLE_TELEMETRY := true
export SPARK_LOCAL_IP := 127.0.0.1

# Browser tests drive Debian's chromium; apt-get needs root (or SUDO=sudo).
SUDO ?=

.PHONY: install browser run refresh test viz bench serve label dockerfile

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e ".[test]"
	touch $@

run: install
	$(BIN)/kedro run

# New reviews in, a better model out: label only what is new in data/01_raw/arrivals/, retrain on
# every label so far, promote and redeploy only past the gate (README, "Refresh").
refresh: install
	$(BIN)/kedro run --pipelines refresh

browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

test: install browser
	$(BIN)/python -m pytest

viz: install
	$(BIN)/kedro viz build

bench: install
	$(BIN)/python bench/pipeline_overhead.py
	$(BIN)/python bench/labeling_efficiency.py
	$(BIN)/python bench/labeled_set.py  # the labeled set's cost at 10k, 100k and 300k labels, about 2 minutes
	$(BIN)/python bench/refresh.py  # five refresh rounds of 4,000 reviews, about 10 minutes
	$(BIN)/python bench/serving.py  # needs wrk and a champion in mlruns.db (make run)
	$(BIN)/python bench/label_issues.py  # flipped-label recall, old search vs new
	$(BIN)/python bench/features.py  # feature options: accuracy against memory
	$(BIN)/python bench/extraction.py  # data_extraction on pandas and on Spark
	$(BIN)/python bench/search_rules.py  # the choice rule decided on training-data review sets, about 15 minutes
	$(BIN)/python bench/holdout.py  # the model search on the holdout sets, about 20 minutes
	$(BIN)/python bench/scale.py  # 100k, 300k and 1M reviews end to end, about 20 minutes

WORKERS ?= 1
serve: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m review_sentiment.serving \
		--model-uri models:/review-sentiment@champion --tracking-uri sqlite:///mlruns.db --port 5001 \
		--workers $(WORKERS)

# The serving image's build context for the champion (Dockerfile + model) in build/docker, written
# offline; a machine with Docker builds and pushes it (docs/sagemaker.md). An exported
# MLFLOW_TRACKING_URI (a shared tracking server) wins over the local registry.
dockerfile: install
	rm -rf build/docker
	MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-sqlite:///mlruns.db}" $(BIN)/mlflow models generate-dockerfile \
		-m models:/review-sentiment@champion -d build/docker

# The labeling page takes its files and job from the Kedro catalog and parameters (KEDRO_ENV as for kedro).
label: install
	$(BIN)/python -m review_sentiment.labeling_app serve
