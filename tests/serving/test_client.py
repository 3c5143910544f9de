"""predict() against the real scoring server, a deliberately broken HTTP server, and a SageMaker
runtime API served by moto."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pandas as pd
import pytest
import requests

from review_sentiment.serving import EndpointError, LocalModelServer, predict
from tests.serving import PROBE_LABELS, PROBE_TEXTS, registered_champion

REGION = "us-east-1"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """URL of one real scoring server for the module: it takes about 10 s to start."""
    model_uri, tracking_uri = registered_champion(tmp_path_factory.mktemp("client"))
    with LocalModelServer(model_uri, tracking_uri=tracking_uri) as server:
        yield server.url


DATA = {
    "list": lambda: list(PROBE_TEXTS),
    "Series": lambda: pd.Series(PROBE_TEXTS, name="review"),
    "DataFrame": lambda: pd.DataFrame({"review_id": ["R1", "R2", "R3"], "text": PROBE_TEXTS}),
}


@pytest.mark.parametrize("make_data", DATA.values(), ids=DATA.keys())
def test_predict_gives_one_label_per_row(endpoint, make_data):
    labels = predict(endpoint, make_data())

    assert labels == PROBE_LABELS


def test_predict_with_no_rows_asks_nothing_and_gives_no_labels():
    # An unreachable endpoint: nothing may be sent for nothing to label.
    assert predict("http://127.0.0.1:9", []) == []


def test_dataframe_without_a_text_column_is_refused_before_sending():
    with pytest.raises(ValueError, match="no 'text' column"):
        predict("http://127.0.0.1:9", pd.DataFrame({"review_body": ["Great"]}))


def test_endpoint_that_is_neither_url_nor_endpoint_name_is_refused():
    with pytest.raises(ValueError, match="did you mean 'http://localhost:5001'"):
        predict("localhost:5001", ["Great"])


# --- Endpoints that answer badly: a tiny real HTTP server that answers what each test sets. ---


class _Canned(BaseHTTPRequestHandler):
    status = 200
    body = b""

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass  # keep test output quiet


@pytest.fixture(scope="module")
def canned_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join()


@pytest.fixture
def answering(canned_server):
    """Sets what the canned server answers; returns its URL."""

    def answer(status: int, body: bytes) -> str:
        _Canned.status, _Canned.body = status, body
        return f"http://127.0.0.1:{canned_server.server_port}"

    return answer


def test_http_error_names_endpoint_status_and_body(answering):
    url = answering(500, b'{"error_code": "INTERNAL_ERROR", "message": "model exploded"}')

    with pytest.raises(EndpointError, match=r"HTTP 500: .*model exploded") as error:
        predict(url, ["Great"])

    assert error.value.status == 500
    assert url in str(error.value)


def test_answer_that_is_not_json_is_an_endpoint_error(answering):
    url = answering(200, b"<html>gateway says hello</html>")

    with pytest.raises(EndpointError, match="not JSON: <html>gateway says hello"):
        predict(url, ["Great"])


def test_wrong_number_of_predictions_is_an_endpoint_error(answering):
    url = answering(200, json.dumps({"predictions": ["positive"]}).encode())

    with pytest.raises(EndpointError, match="1 predictions for 2 rows"):
        predict(url, ["Great", "Awful"])


def test_unreachable_endpoint_is_an_endpoint_error():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    with pytest.raises(EndpointError, match="no answer") as error:
        predict(url, ["Great"], timeout=5)

    assert error.value.endpoint == url


# --- SageMaker endpoints by name, against moto's SageMaker API on 127.0.0.1. ---
# A real SageMaker model container cannot run here (no Docker, no AWS), so moto's invoke_endpoint
# answers with bodies queued in advance: these tests check the request reaches SageMaker's API
# by endpoint name and that each documented answer shape is read correctly, not the model.


@pytest.fixture
def sagemaker_endpoint(moto_url, aws_test_credentials, monkeypatch):
    """An InService endpoint in a freshly reset moto; returns a function queueing its answers."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model(
        ModelName="review-sentiment",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:3.17.2"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="review-sentiment-config",
        ProductionVariants=[
            {
                "VariantName": "champion",
                "ModelName": "review-sentiment",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.t2.medium",
            }
        ],
    )
    sagemaker.create_endpoint(
        EndpointName="review-sentiment-prod", EndpointConfigName="review-sentiment-config"
    )
    assert sagemaker.describe_endpoint(EndpointName="review-sentiment-prod")["EndpointStatus"] == "InService"

    def queue(*bodies: object) -> str:
        results = [{"Body": json.dumps(body), "ContentType": "application/json"} for body in bodies]
        response = requests.post(
            f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
            json={"region": REGION, "results": results},
            timeout=10,
        )
        response.raise_for_status()
        return "review-sentiment-prod"

    return queue


def test_sagemaker_endpoint_predictions_object_gives_labels(sagemaker_endpoint):
    name = sagemaker_endpoint({"predictions": ["positive", "negative"]})

    labels = predict(name, ["Great value", "Broke in a week"])

    assert labels == ["positive", "negative"]


def test_sagemaker_endpoint_bare_list_gives_labels(sagemaker_endpoint):
    name = sagemaker_endpoint(["neutral"])

    labels = predict(name, pd.Series(["It is fine"]))

    assert labels == ["neutral"]


def test_sagemaker_endpoint_wrong_count_names_the_endpoint(sagemaker_endpoint):
    name = sagemaker_endpoint({"predictions": ["positive"]})

    message = "SageMaker endpoint review-sentiment-prod gave 1 predictions for 3 rows"
    with pytest.raises(EndpointError, match=message):
        predict(name, ["a", "b", "c"])


def test_sagemaker_endpoint_without_region_is_an_endpoint_error(sagemaker_endpoint, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)

    with pytest.raises(EndpointError, match="no region"):
        predict("review-sentiment-prod", ["Great"])


def test_sagemaker_region_can_be_given_instead_of_the_environment(sagemaker_endpoint, monkeypatch):
    name = sagemaker_endpoint({"predictions": ["negative"]})
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    labels = predict(name, ["Awful"], region=REGION)

    assert labels == ["negative"]
