"""Project settings: hooks and where configuration comes from."""

from kedro.config import OmegaConfigLoader

from review_sentiment.hooks import AutologHooks, SourceNameHooks, SparkHooks

HOOKS = (SparkHooks(), AutologHooks(), SourceNameHooks())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "spark": ["spark*", "spark*/**"],
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    },
}
