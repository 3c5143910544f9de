"""Configuration merges the way the README says: an environment overrides single parameters."""

from kedro.config import OmegaConfigLoader

from review_sentiment.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT


def test_an_environment_overrides_one_parameter_and_keeps_the_rest(tmp_path):
    conf = tmp_path / "conf"
    (conf / "base").mkdir(parents=True)
    (conf / "base" / "parameters_labeling.yml").write_text(
        (PROJECT / "conf/base/parameters_labeling.yml").read_text()
    )
    (conf / "local").mkdir()
    (conf / "local" / "parameters_labeling.yml").write_text("labeling:\n  people:\n    per_item: 3\n")

    params = OmegaConfigLoader(str(conf), env="local", **CONFIG_LOADER_ARGS)["parameters"]

    assert params["labeling"]["people"]["per_item"] == 3
    assert params["labeling"]["people"]["consolidation"] == "dawid_skene"
    assert params["labeling"]["workforce"] == "star_rating"
