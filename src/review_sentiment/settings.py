"""Project settings: hooks and where configuration comes from."""

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from review_sentiment.hooks import (
    AutologHooks,
    S3Hooks,
    SourceNameHooks,
    SparkHooks,
    TypedParamsMlflowHook,
)

# kedro-mlflow's hook is replaced by a subclass that logs typed parameters field by field.
# The distribution calls itself "kedro_mlflow" in its metadata, which is the name Kedro matches.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)
HOOKS = (TypedParamsMlflowHook(), SparkHooks(), AutologHooks(), SourceNameHooks(), S3Hooks())

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
