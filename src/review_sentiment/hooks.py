"""Project hooks: a Spark session only for pipelines that read Spark datasets, autologging for
training nodes, and source names on loaded tables so errors point at the real file."""

from __future__ import annotations

import logging
import os
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook
from pydantic import BaseModel

logger = logging.getLogger(__name__)


class SparkHooks:
    """Starts the Spark session from `conf/*/spark.yml`, lazily.

    Kedro's pyspark starter starts Spark in `after_context_created`, which costs every command
    (even `kedro viz build`) a JVM start; here only a run that loads a Spark dataset pays it.
    """

    def __init__(self) -> None:
        self._spark_conf: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context) -> None:
        self._spark_conf = dict(context.config_loader["spark"])

    @hook_impl
    def before_pipeline_run(self, run_params: dict, pipeline: Pipeline, catalog: DataCatalog) -> None:
        from kedro_datasets.spark import SparkDataset

        needs_spark = any(
            isinstance(catalog.get(name), SparkDataset)
            for name in pipeline.datasets()
            if name in catalog
        )
        if needs_spark:
            start_spark(self._spark_conf)


def start_spark(spark_conf: dict[str, Any]):
    """Gets or creates the session; the settings only take effect if none is running yet."""
    # Without this Spark warns that the host name resolves to a loopback address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    conf = dict(spark_conf)
    builder = SparkSession.builder.appName(conf.pop("spark.app.name", "review-sentiment"))
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


# MLflow 3.17's sklearn autologging copies a sparse training matrix into a dense array
# (mlflow.sklearn._create_dataset calls X.toarray() even with log_datasets=False): 16,000 reviews
# by 218,000 bigrams would need 28 GB. Above this size autologging is skipped for the node.
AUTOLOG_DENSE_LIMIT_BYTES = 512 * 2**20


class AutologHooks:
    """Turns MLflow's scikit-learn autologging on for nodes tagged `autolog`.

    kedro-mlflow switches autologging off when it sets up; this runs after it, per node, so the
    seed's `mlflow.sklearn.autolog` behaviour is kept without nodes calling MLflow themselves.
    Models are logged explicitly (with a signature) by the training pipeline, not by autolog.
    """

    @hook_impl
    def before_node_run(self, node: Node, inputs: dict[str, Any]) -> None:
        if "autolog" not in node.tags:
            return
        import mlflow

        too_big = {
            name: _dense_bytes(value)
            for name, value in inputs.items()
            if _dense_bytes(value) > AUTOLOG_DENSE_LIMIT_BYTES
        }
        if too_big:
            logger.warning(
                "Autologging skipped for %s: MLflow would copy %s into a dense array "
                "(limit %d MiB); params and test metrics are still logged",
                node.name,
                ", ".join(f"{name} ({size / 2**20:,.0f} MiB)" for name, size in too_big.items()),
                AUTOLOG_DENSE_LIMIT_BYTES // 2**20,
            )
            return
        mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        if "autolog" in node.tags:
            import mlflow

            mlflow.sklearn.autolog(disable=True)


def _dense_bytes(value: Any) -> int:
    from scipy.sparse import issparse

    if not issparse(value):
        return 0
    rows, columns = value.shape
    return rows * columns * value.dtype.itemsize


class TypedParamsMlflowHook(MlflowHook):
    """kedro-mlflow's hook, logging typed parameters as their fields.

    Kedro hands nodes validated Pydantic models; kedro-mlflow only flattens dicts, so it would
    log each model as one truncated string. It gets plain dicts here; the nodes still get models.
    Registered in settings.py in place of the plugin's own instance.
    """

    @hook_impl
    def before_node_run(
        self, node: Node, catalog: DataCatalog, inputs: dict[str, Any], is_async: bool
    ) -> None:
        plain = {
            name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            for name, value in inputs.items()
        }
        super().before_node_run(node=node, catalog=catalog, inputs=plain, is_async=is_async)


class SourceNameHooks:
    """Records where a loaded pandas table came from (`df.attrs["source"]`) for error messages."""

    def __init__(self) -> None:
        self._catalog: DataCatalog | None = None

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self._catalog = catalog

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        import pandas as pd

        if isinstance(data, pd.DataFrame) and self._catalog is not None:
            dataset = self._catalog.get(dataset_name)
            filepath = getattr(dataset, "_filepath", None)
            protocol = getattr(dataset, "_protocol", "file")
            if filepath is not None:
                where = str(filepath) if protocol == "file" else f"{protocol}://{filepath}"
                data.attrs["source"] = f"{where} (dataset {dataset_name})"


class S3Hooks:
    """S3 for `--env aws`: credentials default to the AWS chain, and buckets are checked first.

    The catalog's S3 entries name the credentials `s3`; Kedro fails on a name missing from
    credentials.yml, so without one `s3` is `{}`: s3fs then asks the AWS default chain
    (environment, AWS_PROFILE, instance or task role), and AWS_ENDPOINT_URL for the endpoint.
    """

    @hook_impl
    def after_context_created(self, context) -> None:
        from kedro.config import MissingConfigException

        loader = context.config_loader
        try:
            credentials = dict(loader["credentials"])
        except MissingConfigException:
            credentials = {}
        credentials.setdefault("s3", {})
        # Set on the loader, it is what the context builds the catalog with.
        loader["credentials"] = credentials

    @hook_impl
    def before_pipeline_run(self, run_params: dict, pipeline: Pipeline, catalog: DataCatalog) -> None:
        from review_sentiment.datasets.s3_access import check_s3_access

        check_s3_access(
            (name, catalog.get(name)) for name in sorted(pipeline.datasets()) if name in catalog
        )
