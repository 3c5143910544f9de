"""Project settings: hooks, the catalog class, local writes and where configuration comes from."""

import warnings

# Usage telemetry is turned off in the package's __init__, for every entry point.
# omegaconf 2.4 deprecates register_new_resolver(), which Kedro's config loader (for `globals`,
# `runtime_params` and the project's `oc.env`) and kedro-mlflow still call, five warnings of
# several lines each per run; only those callers' warning is silenced.
warnings.filterwarnings(
    "ignore",
    message=r"register_new_resolver\(\) is deprecated",
    category=UserWarning,
    module=r"kedro(_mlflow)?\.",
)

from kedro.config import OmegaConfigLoader  # noqa: E402
from omegaconf.resolvers import oc  # noqa: E402

from review_sentiment.files import ProjectDataCatalog, use_replacing_local_files  # noqa: E402
from review_sentiment.hooks import (  # noqa: E402
    LeftoverTempFileHooks,
    MemoryHooks,
    S3Hooks,
    SourceNameHooks,
    SparkHooks,
    TypedParamsMlflowHook,
)
from review_sentiment.run_summary import RunSummaryHooks  # noqa: E402

# Every local file a dataset writes (kedro-datasets' through fsspec's "file" protocol, the
# project's own directly) is written beside its target and renamed over it: a kill mid-write
# leaves the old file, never a cut one. Before the catalog exists, so every dataset gets it.
use_replacing_local_files()

# kedro-mlflow's hook is replaced by one that starts MLflow only for runs that log to it and logs
# typed parameters field by field (hooks.py). The distribution calls itself "kedro_mlflow" in
# its metadata, which is the name Kedro matches. kedro-viz's run hooks record a "workflow" view
# of full runs only and print a 10-line warning on every other run (`--nodes`, `--pipelines`,
# kedro-viz#2443); `kedro viz` draws the lineage without them.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow", "kedro-viz")
HOOKS = (
    TypedParamsMlflowHook(), SparkHooks(), SourceNameHooks(), S3Hooks(), LeftoverTempFileHooks(),
    RunSummaryHooks(), MemoryHooks(),
)  # fmt: skip

# A file a run reads that is cut off, empty or from another version stops the run with one line
# naming it and what to do (`CorruptFileError`), not a traceback around the parser's error.
DATA_CATALOG_CLASS = ProjectDataCatalog

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "spark": ["spark*", "spark*/**"],
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    },
    # Key by key: conf/aws or conf/local can set `labeling.ground_truth.role_arn` alone instead of
    # having to repeat the whole `labeling:` block (the default replaces top-level keys whole).
    # The catalog and mlflow.yml too: conf/aws names only what differs (S3 paths), not whole entries.
    "merge_strategy": {"parameters": "soft", "catalog": "soft", "mlflow": "soft"},
    # `${oc.env:NAME, default}` in every file, not only credentials (Kedro's default): the S3
    # location (conf/aws/globals.yml) and MLFLOW_TRACKING_URI (conf/base/mlflow.yml).
    "custom_resolvers": {"oc.env": oc.env},
}
