"""Project hooks: a Spark session only for pipelines that read Spark datasets, an MLflow run only
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

from review_sentiment.progress import step

logger = logging.getLogger(__name__)


class SparkHooks:
    """Starts the Spark session from `conf/*/spark.yml`, lazily.

    Kedro's pyspark starter starts Spark in `after_context_created`, which costs every command
    (even `kedro viz build`) a JVM start; here only a run whose pipeline has a Spark dataset
    (a `kedro_datasets.spark` class or a subclass, such as `ObjectStoreTextDataset`) pays it.
    """

    def __init__(self) -> None:
        self._spark_conf: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context) -> None:
        global _PROJECT_SPARK_CONF
        self._spark_conf = dict(context.config_loader["spark"])
        _PROJECT_SPARK_CONF = self._spark_conf

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        names = _catalog_names(pipeline, catalog)
        if any(_is_from(catalog.get(name), "kedro_datasets.spark") for name in names):
            with step(f"starting Spark ({spark_location(self._spark_conf)})", logger=logger):
                start_spark(self._spark_conf)


# Spark's JVM log at WARN, one line per record (see the file).
LOG4J2_PROPERTIES = Path(__file__).with_name("log4j2.properties")
# What a Spark Connect client may set: SQL session settings. The rest (master, app name, driver
# memory and JVM options, UI, Hadoop) is the server's, fixed when it started.
CONNECT_SETTINGS_PREFIX = "spark.sql."


class SparkConfigError(ValueError):
    """`spark.yml` names no place to run Spark (e.g. `--env cluster` without its variables)."""


# The settings of the project's session (conf/<env>/spark.yml), recorded by SparkHooks when a
# Kedro context is created, for code that needs Spark only sometimes (`project_spark`).
_PROJECT_SPARK_CONF: dict[str, Any] | None = None


def project_spark_conf() -> dict[str, Any] | None:
    """The project's Spark settings, or None outside a Kedro context (a bare script or test)."""
    return _PROJECT_SPARK_CONF


def project_spark():
    """The project's Spark session, started on first use from `conf/*/spark.yml` (the one
    `SparkHooks` starts; never a second one). Outside a Kedro context, the running session.

    Raises:
        SparkConfigError: no Kedro context and no session running.
    """
    from pyspark.sql import SparkSession

    # The running one, if any (a test's, a notebook's): getOrCreate would apply no settings.
    session = SparkSession.getActiveSession() or getattr(SparkSession, "_instantiatedSession", None)
    if session is not None:
        return session
    if _PROJECT_SPARK_CONF is None:
        raise SparkConfigError(
            "no Spark settings: run through Kedro (conf/*/spark.yml) or start a session first"
        )
    with step(f"starting Spark ({spark_location(_PROJECT_SPARK_CONF)})", logger=logger):
        return start_spark(_PROJECT_SPARK_CONF)


def spark_is_remote(spark_conf: dict[str, Any] | None) -> bool:
    """Whether the settings put Spark on a cluster (a Connect endpoint, or a master that is not
    `local[...]`) rather than in this process."""
    conf = spark_conf or {}
    master = str(conf.get("spark.master") or "local")
    return remote_url(conf) is not None or not master.startswith("local")


def remote_url(spark_conf: dict[str, Any]) -> str | None:
    """The Spark Connect endpoint (`sc://host:port/;params`) the settings point at, or None for a
    classic session: `spark.remote`, or a `spark.master` that is an `sc://` URL, or else the
    `SPARK_REMOTE` variable, which PySpark itself obeys whatever the settings say."""
    remote = spark_conf.get("spark.remote")
    master = spark_conf.get("spark.master")
    if not remote and isinstance(master, str) and master.startswith("sc://"):
        remote = master
    return remote or os.environ.get("SPARK_REMOTE") or None


def spark_location(spark_conf: dict[str, Any]) -> str:
    """Where the session runs, for the log: the master, or the Connect endpoint without its
    parameters (a Databricks URL carries its token there)."""
    remote = remote_url(spark_conf)
    if remote:
        return f"Spark Connect {remote.split('/;', 1)[0].split(';', 1)[0]}"
    return str(spark_conf.get("spark.master") or "no master set")


def start_spark(spark_conf: dict[str, Any]):
    """Gets or creates the session; the settings only take effect if none is running yet.

    A classic session (`spark.master`: `local[*]`, `spark://host:7077`, `yarn`) gets every
    setting, and its driver logs through `log4j2.properties`. A Spark Connect session
    (`spark.remote`, or an `sc://` master) gets only the `spark.sql.*` settings: the rest belongs
    to the server.
    """
    # Without this Spark warns that the host name resolves to a loopback address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    conf = {key: value for key, value in spark_conf.items() if value is not None}
    remote = remote_url(conf)
    if remote:
        # Datasets get the session with `SparkSession.builder.getOrCreate()`, which connects
        # to SPARK_REMOTE (kedro-datasets' SparkDataset does so).
        os.environ["SPARK_REMOTE"] = remote
        settings = {k: v for k, v in conf.items() if k.startswith(CONNECT_SETTINGS_PREFIX)}
        skipped = sorted(set(conf) - set(settings) - {"spark.remote"})
        if skipped:
            logger.debug("Spark Connect: left to the server: %s", ", ".join(skipped))
        builder = SparkSession.builder.remote(remote)
        for key, value in settings.items():
            builder = builder.config(key, str(value).lower() if isinstance(value, bool) else value)
        return builder.getOrCreate()
    if not conf.get("spark.master"):
        raise SparkConfigError(
            "spark.yml sets no spark.master: set SPARK_MASTER (spark://host:7077, yarn, local[*]) "
            "or SPARK_REMOTE (Spark Connect, sc://host:15002) for kedro run --env cluster"
        )
    java_options = conf.get("spark.driver.extraJavaOptions", "")
    if "log4j2.configurationFile" not in java_options:
        conf["spark.driver.extraJavaOptions"] = (
            f"{java_options} -Dlog4j2.configurationFile={LOG4J2_PROPERTIES.as_uri()}".strip()
        )
    builder = SparkSession.builder.appName(conf.pop("spark.app.name", "review-sentiment"))
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


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
