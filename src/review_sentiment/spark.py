"""The project's Spark session: its settings (`conf/<env>/spark.yml`) and the session they start
on first use (`ProjectSpark`, made by `hooks.SparkHooks`), and Python functions shipped to its
executors with the project's code (`ShippedByValue`). PySpark is imported only when used."""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from review_sentiment.progress import step

logger = logging.getLogger(__name__)

# Spark's JVM log at WARN, one line per record (see the file).
LOG4J2_PROPERTIES = Path(__file__).with_name("log4j2.properties")
# What a Spark Connect client may set: SQL session settings. The rest (master, app name, driver
# memory and JVM options, UI, Hadoop) is the server's, fixed when it started.
CONNECT_SETTINGS_PREFIX = "spark.sql."
# The catalog's name for the project's `ProjectSpark`, the input of nodes that may use Spark.
SPARK_DATASET = "spark"


class SparkConfigError(ValueError):
    """`spark.yml` names no place to run Spark (e.g. `--env cluster` without its variables)."""


class ProjectSpark:
    """The project's Spark session: the settings of `conf/<env>/spark.yml` and the session they
    start, on first use only, so that a run that reads no Spark dataset starts no JVM.

    `hooks.SparkHooks` makes one per Kedro context and hands it to the catalog (dataset `spark`,
    an input of the nodes that may use Spark) and to the datasets that read with Spark
    (`UsesProjectSpark`). Made without settings (a bare script, a test), it uses the session
    already running in the process.

    Args:
        conf: the Spark settings, or None for none (then `session` needs a running session).
    """

    def __init__(self, conf: Mapping[str, Any] | None = None) -> None:
        self.conf = None if conf is None else dict(conf)

    def __repr__(self) -> str:
        return f"ProjectSpark({self.location})"

    @property
    def is_remote(self) -> bool:
        """Whether the session is a cluster's (see `spark_is_remote`); False without settings,
        unless SPARK_REMOTE is set."""
        return spark_is_remote(self.conf)

    @property
    def location(self) -> str:
        """Where the session runs, for the log (see `spark_location`)."""
        return "the running session" if self.conf is None else spark_location(self.conf)

    def session(self):
        """The session: the one running in this process (a test's, a notebook's, or one this
        object started; Spark keeps one per process and getOrCreate would apply no settings to
        it), else a new one from the settings, with a `starting Spark (...)` progress line.

        Raises:
            SparkConfigError: no settings and no session running, or settings that name no
                place to run Spark.
        """
        running = running_session()
        if running is not None:
            return running
        if self.conf is None:
            raise SparkConfigError(
                "no Spark settings: run through Kedro (conf/*/spark.yml) or start a session first"
            )
        with step(f"starting Spark ({self.location})", logger=logger):
            return start_spark(self.conf)


@runtime_checkable
class UsesProjectSpark(Protocol):
    """A dataset that reads with the project's session: `SparkHooks` hands it the session's
    `ProjectSpark` before a run that includes it."""

    def use_spark(self, spark: ProjectSpark) -> None: ...


def spark_is_remote(spark_conf: Mapping[str, Any] | None) -> bool:
    """Whether the settings put Spark on a cluster (a Connect endpoint, or a master that is not
    `local[...]`) rather than in this process."""
    conf = spark_conf or {}
    master = str(conf.get("spark.master") or "local")
    return remote_url(conf) is not None or not master.startswith("local")


def remote_url(spark_conf: Mapping[str, Any]) -> str | None:
    """The Spark Connect endpoint (`sc://host:port/;params`) the settings point at, or None for a
    classic session: `spark.remote`, or a `spark.master` that is an `sc://` URL, or else the
    `SPARK_REMOTE` variable, which PySpark itself obeys whatever the settings say."""
    remote = spark_conf.get("spark.remote")
    master = spark_conf.get("spark.master")
    if not remote and isinstance(master, str) and master.startswith("sc://"):
        remote = master
    return remote or os.environ.get("SPARK_REMOTE") or None


def spark_location(spark_conf: Mapping[str, Any]) -> str:
    """Where the session runs, for the log: the master, or the Connect endpoint without its
    parameters (a Databricks URL carries its token there)."""
    remote = remote_url(spark_conf)
    if remote:
        return f"Spark Connect {remote.split('/;', 1)[0].split(';', 1)[0]}"
    return str(spark_conf.get("spark.master") or "no master set")


def start_spark(spark_conf: Mapping[str, Any]):
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


def to_pandas(frame):
    """A Spark DataFrame as a pandas one, without passing the rows through the driver's heap when
    Spark runs in this process.

    `toPandas` gathers every partition's rows in the driver JVM before Python gets them: at a
    million labeled reviews a 4g heap ran out of memory (and Spark then waits forever for the
    lost results). A local session instead has its executors write Parquet to a temporary folder,
    which Arrow reads, freeing each column as pandas takes it. A remote session (a cluster, Spark
    Connect), whose files this process may not see, uses `toPandas`.
    """
    session = frame.sparkSession
    if not _is_local_classic(session):
        return frame.toPandas()
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="review-sentiment-spark-") as folder:
        path = Path(folder) / "frame.parquet"
        frame.write.parquet(path.as_uri())
        return pq.read_table(path).to_pandas(self_destruct=True, split_blocks=True)


def _is_local_classic(session) -> bool:
    return is_classic(session) and session.sparkContext.master.startswith("local")


def is_classic(session) -> bool:
    """Whether `session` runs its driver in this process (not a Spark Connect client)."""
    return type(session).__module__.startswith("pyspark.sql.session")


def running_session():
    """The Spark session running in this process, or None; never starts one (nor imports
    PySpark when nothing has)."""
    import sys

    if "pyspark.sql" not in sys.modules:
        return None
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() or getattr(SparkSession, "_instantiatedSession", None)


# Registering for pickling by value is process-wide: one function is pickled at a time.
_BY_VALUE = threading.Lock()


class ShippedByValue:
    """A function for the executors that pickles with the given modules' code inside it.

    Executors may run a Python without this project installed (locally the `python3` on PATH,
    on a cluster whatever its image has, on a Spark Connect server the server's). The functions
    shipped this way need only the standard library and the modules named here (such as
    `review_sentiment.ground_truth`, whose checks need nothing else), which travel with each
    task instead of being imported there. A classic session pickles a UDF when the DataFrame is
    built, Spark Connect each time it sends a plan: whenever that happens, this object pickles
    as the function pickled by value, so no registration has to outlive the call.

    Args:
        func: the function the executors run.
        name: the UDF's name in Spark's plans.
        modules: the modules or packages pickled by value with it.
    """

    def __init__(self, func: Callable, name: str, modules: tuple[ModuleType, ...]) -> None:
        self._func = func
        self._modules = modules
        self.__name__ = name  # Spark names the UDF after it

    def __call__(self, *args):
        return self._func(*args)

    def __reduce__(self) -> tuple[Callable, tuple[bytes]]:
        from pyspark import cloudpickle

        with _BY_VALUE:
            registered = []
            try:
                for module in self._modules:
                    cloudpickle.register_pickle_by_value(module)
                    registered.append(module)
                payload = cloudpickle.dumps(self._func)
            finally:
                for module in reversed(registered):
                    cloudpickle.unregister_pickle_by_value(module)
        return pickle.loads, (payload,)
