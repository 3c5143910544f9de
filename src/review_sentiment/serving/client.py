"""Labels for texts from a model endpoint speaking MLflow's scoring protocol: a local or remote
`http(s)://` server, or a SageMaker endpoint given by name."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
import requests

# SageMaker's rule for EndpointName (CreateEndpoint API reference).
_SAGEMAKER_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_EXCERPT_CHARS = 200

Texts = Sequence[str] | pd.Series | pd.DataFrame


class EndpointError(RuntimeError):
    """The endpoint could not be reached or answered badly; names the endpoint and what it said."""

    def __init__(self, message: str, *, endpoint: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.body = body


def predict(endpoint: str, data: Texts, *, timeout: float = 30, region: str | None = None) -> list[str]:
    """One label per row of `data`, from the model behind `endpoint`.

    Args:
        endpoint: `http(s)://host:port` of a scoring server (POST `/invocations` is added), or the
            name of a SageMaker endpoint.
        data: texts as a list or Series (sent as `{"inputs": [...]}`), or a DataFrame with a
            `text` column (sent as `dataframe_split` of that column only).
        timeout: seconds to wait for connecting and for the answer.
        region: the SageMaker endpoint's region; default AWS_DEFAULT_REGION. Unused for URLs.

    Raises:
        EndpointError: unreachable, an HTTP/SageMaker error, a body that is not JSON, or a number
            of labels different from the number of rows.
        TypeError, ValueError: `data` is not texts.
    """
    texts = _texts(data)
    if not texts:
        return []  # the scoring server refuses an empty table; nothing to ask
    body = _request_body(data, texts)
    if endpoint.startswith(("http://", "https://")):
        raw, where = _post(endpoint, body, timeout), endpoint
    elif _SAGEMAKER_ENDPOINT_NAME.match(endpoint):
        raw, where = _invoke_sagemaker(endpoint, body, timeout, region), f"SageMaker endpoint {endpoint}"
    else:
        raise ValueError(
            f"endpoint {endpoint!r} is neither an http(s):// URL nor a SageMaker endpoint name "
            f"(did you mean 'http://{endpoint}'?)"
        )
    return _labels(raw, len(texts), where, endpoint)


def _texts(data: Texts) -> list[str]:
    if isinstance(data, pd.DataFrame):
        if "text" not in data.columns:
            raise ValueError(f"the DataFrame has no 'text' column, only {list(data.columns)}")
        values = data["text"].tolist()
    elif isinstance(data, pd.Series):
        values = data.tolist()
    elif isinstance(data, Sequence) and not isinstance(data, str | bytes):
        values = list(data)
    else:
        kind = type(data).__name__
        raise TypeError(f"data must be a list of texts, a Series or a DataFrame, not {kind}")
    for row, value in enumerate(values):
        if not isinstance(value, str):
            raise ValueError(f"row {row} of data is {type(value).__name__} {value!r}, not a text")
    return values


def _request_body(data: Texts, texts: list[str]) -> str:
    if isinstance(data, pd.DataFrame):
        rows = [[text] for text in texts]
        payload: dict[str, Any] = {"dataframe_split": {"columns": ["text"], "data": rows}}
    else:
        payload = {"inputs": texts}
    return json.dumps(payload)


def _post(endpoint: str, body: str, timeout: float) -> bytes:
    url = endpoint.rstrip("/")
    if not url.endswith("/invocations"):
        url += "/invocations"
    try:
        response = requests.post(
            url, data=body.encode("utf-8"), headers={"Content-Type": "application/json"}, timeout=timeout
        )
    except requests.RequestException as error:
        raise EndpointError(f"{url}: no answer: {error}", endpoint=endpoint) from error
    if response.status_code != 200:
        excerpt = _excerpt(response.content)
        raise EndpointError(
            f"{url} answered HTTP {response.status_code}: {excerpt}",
            endpoint=endpoint,
            status=response.status_code,
            body=excerpt,
        )
    return response.content


def _invoke_sagemaker(endpoint: str, body: str, timeout: float, region: str | None) -> bytes:
    # Imported here: only the SageMaker path needs boto3, and it takes a while to import.
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    region = region or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise EndpointError(
            f"SageMaker endpoint {endpoint}: no region; pass region= or set AWS_DEFAULT_REGION",
            endpoint=endpoint,
        )
    try:
        # boto3 reads AWS_ENDPOINT_URL itself, which points it at a local API server in tests.
        client = boto3.client(
            "sagemaker-runtime",
            region_name=region,
            config=Config(connect_timeout=timeout, read_timeout=timeout),
        )
        response = client.invoke_endpoint(
            EndpointName=endpoint, ContentType="application/json", Accept="application/json", Body=body
        )
        return response["Body"].read()
    except ClientError as error:
        details = error.response
        # A ModelError carries what the model container itself answered.
        metadata = details.get("ResponseMetadata", {})
        status = details.get("OriginalStatusCode") or metadata.get("HTTPStatusCode")
        message = details.get("OriginalMessage") or details.get("Error", {}).get("Message", str(error))
        code = details.get("Error", {}).get("Code", "error")
        excerpt = _excerpt(message.encode("utf-8"))
        raise EndpointError(
            f"SageMaker endpoint {endpoint} ({region}) answered {code} (HTTP {status}): {excerpt}",
            endpoint=endpoint,
            status=status,
            body=excerpt,
        ) from error
    except BotoCoreError as error:
        message = f"SageMaker endpoint {endpoint} ({region}): {error}"
        raise EndpointError(message, endpoint=endpoint) from error


def _labels(raw: bytes, rows: int, where: str, endpoint: str) -> list[str]:
    def bad_answer(problem: str) -> EndpointError:
        excerpt = _excerpt(raw)
        return EndpointError(f"{where} {problem}: {excerpt}", endpoint=endpoint, status=200, body=excerpt)

    try:
        answer = json.loads(raw)
    except ValueError:
        raise bad_answer("answered with a body that is not JSON") from None
    predictions = answer.get("predictions") if isinstance(answer, dict) else answer
    if not isinstance(predictions, list):
        raise bad_answer("answered JSON without a list of predictions")
    if len(predictions) != rows:
        raise bad_answer(f"gave {len(predictions)} predictions for {rows} rows")
    for row, label in enumerate(predictions):
        if not isinstance(label, str):
            raise bad_answer(f"gave prediction {row} as {label!r}, not a label string")
    return predictions


def _excerpt(raw: bytes) -> str:
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"
