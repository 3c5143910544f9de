"""Project hooks: the project's Spark session as an object the catalog and the datasets get,
started only for pipelines that read Spark datasets or nodes that ask for it, an MLflow run only
for pipelines that log to MLflow, source names on loaded tables so errors point at the real file,
and no temporary file of a killed run left behind. Nothing heavy is imported here: each hook
imports what it needs when a run needs it."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline

from review_sentiment.spark import SPARK_DATASET, ProjectSpark, UsesProjectSpark, running_session

logger = logging.getLogger(__name__)


class SparkHooks:
    """Makes the project's `ProjectSpark` from `conf/*/spark.yml` and hands it out: to the catalog
    as the dataset `spark` (nodes that may use Spark take it as an input) and, before a run, to
    the run's datasets that read with Spark (`UsesProjectSpark`).

    Kedro's pyspark starter starts Spark in `after_context_created`, which costs every command
    (even `kedro viz build`) a JVM start; here only a run whose pipeline has a Spark dataset
    (a `kedro_datasets.spark` class or a subclass, such as `ObjectStoreTextDataset`) starts it
    before the first node; the others start it if a node or dataset asks.
    """

    def __init__(self) -> None:
        self.spark: ProjectSpark | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self.spark = ProjectSpark(context.config_loader["spark"])

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        if self.spark is not None:
            from kedro.io import MemoryDataset

            # "assign": the nodes get this object, not a copy of it.
            catalog[SPARK_DATASET] = MemoryDataset(self.spark, copy_mode="assign")

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        if self.spark is None:
            return
        datasets = [catalog.get(name) for name in _catalog_names(pipeline, catalog)]
        for dataset in datasets:
            if isinstance(dataset, UsesProjectSpark):
                dataset.use_spark(self.spark)
        if any(_is_from(dataset, "kedro_datasets.spark") for dataset in datasets):
            self.spark.session()


# Nodes that call MLflow themselves (not through a catalog dataset) and need the run: tag them.
MLFLOW_TAG = "mlflow"


def mlflow_logging_reason(pipeline: Pipeline, catalog: DataCatalog) -> str | None:
    """Why a run of `pipeline` needs an MLflow run, or None when nothing in it would log:
    kedro-mlflow logs every node's parameters, datasets from kedro-mlflow log themselves, and
    nodes tagged `mlflow` call MLflow directly."""
    for node in pipeline.nodes:
        if MLFLOW_TAG in node.tags:
            return f"node {node.name} is tagged {MLFLOW_TAG!r}"
        parameters = [
            name for name in node.inputs if name.startswith("params:") or name == "parameters"
        ]
        if parameters:
            return f"node {node.name} logs {parameters[0]}"
    for name in _catalog_names(pipeline, catalog):
        if _is_from(catalog.get(name), "kedro_mlflow"):
            return f"dataset {name} logs to MLflow"
    return None


def _catalog_names(pipeline: Pipeline, catalog: DataCatalog) -> list[str]:
    """The pipeline's datasets the catalog knows (by name or pattern), parameters left out."""
    return [
        name
        for name in sorted(pipeline.datasets())
        if not name.startswith("params:") and name in catalog
    ]


def _is_from(dataset: Any, package: str) -> bool:
    """Whether `dataset`, or the dataset it wraps (`CachedDataset`), is a class from `package` or
    a subclass of one; by module name, so that checking imports nothing."""
    for _ in range(3):  # a wrapper of a wrapper at most
        if dataset is None:
            return False
        modules = {cls.__module__ for cls in type(dataset).__mro__}
        if any(module == package or module.startswith(f"{package}.") for module in modules):
            return True
        dataset = getattr(dataset, "_dataset", None)
    return False


class TypedParamsMlflowHook:
    """kedro-mlflow's hook, started only for runs that log to MLflow, logging typed parameters
    as their fields. Registered in settings.py in place of the plugin's own instance.

    The plugin opens the tracking store and the experiment when the context is created and a run
    before any pipeline, so `kedro run --nodes build_input_manifest` left an empty run and paid
    ~1 s for the store. Here the context gets only what costs no I/O (`context.mlflow` for
    `kedro mlflow ui` and notebooks, MLflow's tracking and registry URIs); the plugin's hook is
    set up in `before_pipeline_run` when `mlflow_logging_reason` finds something to log.

    Kedro hands nodes validated Pydantic models; kedro-mlflow only flattens dicts, so it would
    log each model as one truncated string. It gets plain dicts here; the nodes still get models.
    """

    def __init__(self) -> None:
        self._context = None
        self._catalog_args: dict[str, Any] = {}
        self._plugin = None  # kedro-mlflow's MlflowHook, for a run that logs to MLflow

    @hook_impl
    def after_context_created(self, context) -> None:
        import mlflow
        from kedro_mlflow.config.kedro_mlflow_config import _validate_uri

        self._context, self._plugin = context, None
        config = read_mlflow_config(context)
        context.__setattr__("mlflow", config)  # the context is frozen; kedro-mlflow does the same
        # With a run already active (an orchestrator's) the plugin keeps its store: so do we.
        if mlflow.active_run() is None:
            server, project = config.server, context.project_path
            tracking = server.mlflow_tracking_uri or os.environ.get("MLFLOW_TRACKING_URI", "mlruns")
            registry = server.mlflow_registry_uri
            mlflow.set_tracking_uri(_validate_uri(project, tracking))
            mlflow.set_registry_uri(registry and _validate_uri(project, registry))

    @hook_impl
    def after_catalog_created(  # noqa: PLR0913
        self,
        catalog: DataCatalog,
        conf_catalog: dict[str, Any],
        conf_creds: dict[str, Any],
        parameters: dict[str, Any],
        save_version: str,
        load_versions: dict[str, str],
    ) -> None:
        self._catalog_args = {
            "catalog": catalog, "conf_catalog": conf_catalog, "conf_creds": conf_creds,
            "parameters": parameters, "save_version": save_version, "load_versions": load_versions,
        }  # fmt: skip

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict, pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        reason = mlflow_logging_reason(pipeline, catalog)
        if reason is None:
            logger.info("No MLflow run: nothing in this run logs to MLflow")
            return
        logger.debug("An MLflow run is needed: %s", reason)
        from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook

        plugin = MlflowHook()
        plugin.after_context_created(context=self._context)
        plugin.after_catalog_created(**{**self._catalog_args, "catalog": catalog})
        plugin.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
        self._plugin = plugin

    @hook_impl
    def before_node_run(
        self, node: Node, catalog: DataCatalog, inputs: dict[str, Any], is_async: bool
    ) -> None:
        if self._plugin is None:
            return
        from pydantic import BaseModel

        plain = {
            name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            for name, value in inputs.items()
        }
        self._plugin.before_node_run(node=node, catalog=catalog, inputs=plain, is_async=is_async)

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict, pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        plugin, self._plugin = self._plugin, None
        if plugin is not None:
            plugin.after_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: dict, pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        plugin, self._plugin = self._plugin, None
        if plugin is not None:
            plugin.on_pipeline_error(
                error=error, run_params=run_params, pipeline=pipeline, catalog=catalog
            )


def read_mlflow_config(context):
    """kedro-mlflow's configuration (`conf/*/mlflow.yml`) as its hook reads it, not yet set up."""
    from kedro.config import MissingConfigException
    from kedro_mlflow.config.kedro_mlflow_config import KedroMlflowConfig

    patterns = context.config_loader.config_patterns
    patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])
    try:
        conf = context.config_loader["mlflow"]
    except MissingConfigException:
        conf = {}
    # A relative SQLite path is the project's file wherever the process runs (a notebook in
    # notebooks/, a script): kedro-mlflow only anchors plain paths, and MLflow would open
    # `sqlite:///mlruns.db` in the working directory. Set back on the loader, so kedro-mlflow's
    # own hook reads the same.
    server = dict(conf.get("server") or {})
    for key in ("mlflow_tracking_uri", "mlflow_registry_uri"):
        server[key] = project_sqlite_uri(server.get(key), context.project_path)
    conf = {**conf, "server": server}
    context.config_loader["mlflow"] = conf
    return KedroMlflowConfig.model_validate({**conf})


def project_sqlite_uri(uri: str | None, project_path: Path) -> str | None:
    """`sqlite:///relative.db` anchored at the project (`sqlite:////abs/project/relative.db`);
    any other URI as it is."""
    prefix = "sqlite:///"
    if not uri or not uri.startswith(prefix) or uri.startswith(prefix + "/"):
        return uri
    relative = uri[len(prefix):]
    if relative.startswith(":memory:") or not relative:
        return uri
    return prefix + str(Path(project_path) / relative)


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


class MemoryHooks:
    """Memory a run no longer needs goes back to the operating system.

    - **Outputs no node of the run reads.** Kedro keeps every in-memory output that no node
      consumes until the run ends (so that `session.run` can hand them back), such as the
      labeling pipeline's `labeled_set`, which only the refresh reads: at a million reviews,
      a million manifest records held through features and training. They are released once
      saved.
    - **Freed pages and heap.** Before each node, the Python process's free pages go back
      (`memory`), and the Spark driver's heap after a node that used Spark (a Spark DataFrame
      or the project's `ProjectSpark` among its inputs). Kedro drops a node's inputs and
      outputs after `after_node_run`, so the release waits for the next node.
    """

    def __init__(self) -> None:
        self._catalog: DataCatalog | None = None
        self._unread: set[str] = set()
        self._spark_used = False

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        self._catalog, self._unread = catalog, set(pipeline.outputs())

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        from kedro.io import MemoryDataset

        if self._catalog is not None and dataset_name in self._unread:
            if isinstance(self._catalog.get(dataset_name), MemoryDataset):
                self._catalog.release(dataset_name)

    @hook_impl
    def after_node_run(self, inputs: dict[str, Any]) -> None:
        self._spark_used = self._spark_used or any(_uses_spark(value) for value in inputs.values())

    @hook_impl
    def before_node_run(self) -> None:
        from review_sentiment import memory

        if self._spark_used:
            session = running_session()
            if session is not None:
                memory.release_jvm_memory(session)
            self._spark_used = False
        memory.release_python_memory()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._catalog, self._unread = None, set()


def _uses_spark(value: Any) -> bool:
    return isinstance(value, ProjectSpark) or type(value).__module__.startswith("pyspark.sql")


class LeftoverTempFileHooks:
    """Removes the temporary files that killed writers left beside the catalog's local files
    (`files.ReplacingFile`: `.<name>.<pid>.<random>.tmp`), before each run.

    Only those of writers that are gone: a run going on at the same time keeps its own. The
    folders come from the catalog's configuration (every entry, patterns too), so no dataset
    class is imported for them.
    """

    def __init__(self) -> None:
        self._folders: list[tuple[Path, bool]] = []

    @hook_impl
    def after_catalog_created(self, conf_catalog: dict[str, Any]) -> None:
        from review_sentiment.files import catalog_folders

        self._folders = catalog_folders(conf_catalog)

    @hook_impl
    def before_pipeline_run(self) -> None:
        from review_sentiment.files import remove_leftover_temp_files

        removed = remove_leftover_temp_files(self._folders)
        if removed:
            logger.info(
                "Removed %d temporary file(s) left by killed runs: %s",
                len(removed), ", ".join(sorted({str(path.parent) for path in removed})),
            )  # fmt: skip
