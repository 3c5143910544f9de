"""Project settings: hooks and where configuration comes from."""

from kedro.config import OmegaConfigLoader

from review_sentiment.hooks import (
    AutologHooks,
    SourceNameHooks,
    SparkHooks,
    TypedParamsMlflowHook,
)

# kedro-mlflow's hook is replaced by a subclass that logs typed parameters field by field.
# The distribution calls itself "kedro_mlflow" in its metadata, which is the name Kedro matches.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)
HOOKS = (TypedParamsMlflowHook(), SparkHooks(), AutologHooks(), SourceNameHooks())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "spark": ["spark*", "spark*/**"],
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    },
}
