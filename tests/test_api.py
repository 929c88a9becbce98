"""The prediction API: every endpoint and error through the Lambda handler with API Gateway
REST API proxy events, then through the local server (`lake serve`) over HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from serving_samples import NEW_VERSION, REST_API_PROXY_EVENT, rest_api_event, write_gold_lake

from api import prediction_api
from api.local_server import make_server, proxy_event
from instacart_lake.deploy.templates import api as api_stack
from instacart_lake.deploy.templates.rendering import TEMPLATES_DIR, load_template, render
from instacart_lake.jobs.export_serving import run_export_serving
from instacart_lake.locations import uri_to_path
from instacart_lake.orchestration.lambda_context import LocalLambdaContext
from instacart_lake.serving import open_serving_store
from instacart_lake.serving.dynamodb import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA

API_KEY = "test-key-1"
CONTEXT = LocalLambdaContext("prediction-api")


def lake_root(lake) -> str:
    return str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent)


@pytest.fixture
def api_environment(lake, monkeypatch):
    """The handler's environment for the lake (as `lake serve` sets it), with a fresh store per test."""
    for name, value in {"LAKE_PROFILE": "local", "LAKE_ROOT": lake_root(lake), "LAKE_API_KEY": API_KEY}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    prediction_api.serving_store.cache_clear()
    yield lake
    prediction_api.serving_store.cache_clear()


@pytest.fixture
def exported(api_environment):
    write_gold_lake(api_environment)
    return run_export_serving(api_environment, open_serving_store(api_environment))


def call(path: str, query: dict[str, str] | None = None, api_key: str | None = API_KEY,
         method: str = "GET") -> tuple[int, dict]:
    response = prediction_api.handler(rest_api_event(path, query, api_key, method), CONTEXT)
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    return response["statusCode"], json.loads(response["body"])


def test_next_basket_gives_the_products_with_names_none_expected_f1_and_model_version(exported):
    assert call("/users/7/next-basket") == (200, {
        "user_id": 7, "order_id": 70, "includes_none": False, "expected_f1": 0.61, "model_version": NEW_VERSION,
        "products": [{"product_id": 2, "product_name": "Organic Strawberries"},
                     {"product_id": 1, "product_name": "Banana"}]})
    assert call("/users/8/next-basket") == (200, {
        "user_id": 8, "order_id": 80, "includes_none": True, "expected_f1": 1.0, "model_version": NEW_VERSION,
        "products": []})


def test_reorder_scores_gives_the_most_probable_first_up_to_the_limit(exported):
    status, body = call("/users/7/reorder-scores", {"limit": "2"})

    assert (status, body) == (200, {"user_id": 7, "model_version": NEW_VERSION, "candidates": 3, "scores": [
        {"product_id": 2, "product_name": "Organic Strawberries", "probability": 0.7},
        {"product_id": 1, "product_name": "Banana", "probability": 0.4}]})
    assert [score["product_id"] for score in call("/users/7/reorder-scores")[1]["scores"]] == [2, 1, 3]
    assert call("/users/8/reorder-scores")[1]["scores"] == []


def test_a_product_has_its_name_aisle_and_department(exported):
    assert call("/products/3") == (200, {"product_id": 3, "product_name": "Sparkling Water", "aisle": "water seltzer",
                                         "department": "beverages", "model_version": NEW_VERSION})
    assert call("/products/4")[1]["aisle"] is None


def test_health_names_the_model_version_served_and_needs_no_key(exported):
    assert call("/health", api_key=None) == (200, {"status": "ok", "model_version": NEW_VERSION,
                                                   "exported_at": exported.exported_at})


def test_the_openapi_document_describes_every_endpoint_and_the_api_key(exported):
    status, document = call("/openapi.json", api_key=None)

    assert status == 200 and document["openapi"].startswith("3.")
    assert sorted(document["paths"]) == ["/health", "/products/{product_id}", "/users/{user_id}/next-basket",
                                         "/users/{user_id}/reorder-scores"]
    assert document["components"]["securitySchemes"] == {"apiKey": {"type": "apiKey", "in": "header",
                                                                    "name": "x-api-key"}}
    basket = document["paths"]["/users/{user_id}/next-basket"]["get"]
    assert basket["security"] == [{"apiKey": []}]
    assert {"200", "400", "401", "403", "404"} <= set(basket["responses"])


@pytest.mark.parametrize("path, query, status, message", [
    ("/users/abc/next-basket", None, 400,
     "user_id: Input should be a valid integer, unable to parse string as an integer"),
    ("/users/0/next-basket", None, 400, "user_id: Input should be greater than or equal to 1"),
    ("/users/2147483648/reorder-scores", None, 400, "user_id: Input should be less than or equal to 2147483647"),
    ("/users/7/reorder-scores", {"limit": "0"}, 400, "limit: Input should be greater than or equal to 1"),
    ("/users/7/reorder-scores", {"limit": "101"}, 400, "limit: Input should be less than or equal to 100"),
    ("/users/7/reorder-scores", {"limit": "ten"}, 400,
     "limit: Input should be a valid integer, unable to parse string as an integer"),
    ("/products/1.5", None, 400, "product_id: Input should be a valid integer, unable to parse string as an integer"),
    ("/users/9/next-basket", None, 404, f"no prediction for user 9 in model version {NEW_VERSION}"),
    ("/users/9/reorder-scores", None, 404, f"no prediction for user 9 in model version {NEW_VERSION}"),
    ("/products/99", None, 404, "no product 99"),
    ("/users", None, 404, "Not found"),
])
def test_a_malformed_id_or_limit_is_a_400_and_an_unknown_one_a_404(exported, path, query, status, message):
    assert call(path, query) == (status, {"statusCode": status, "message": message})


def test_a_missing_api_key_is_a_401_and_a_wrong_one_a_403(exported):
    assert call("/users/7/next-basket", api_key=None) == (
        401, {"statusCode": 401, "message": "missing API key: send it in the x-api-key header"})
    assert call("/products/abc", api_key="wrong") == (403, {"statusCode": 403, "message": "wrong API key"})


def test_before_the_first_export_reads_are_unavailable_and_health_says_so(api_environment):
    assert call("/users/7/next-basket") == (
        503, {"statusCode": 503, "message": "no model version has been exported yet"})
    assert call("/health") == (200, {"status": "no model version exported", "model_version": None,
                                     "exported_at": None})


def test_the_local_server_sends_the_proxy_event_lambda_would_receive():
    event = proxy_event("GET", "/users/7/reorder-scores?limit=2&limit=3", [("Host", "127.0.0.1:8080"),
                                                                          ("x-api-key", "k")], b"", "127.0.0.1")

    sample = REST_API_PROXY_EVENT
    assert set(event) == set(sample)
    assert set(event["requestContext"]) == set(sample["requestContext"])
    assert set(event["requestContext"]["identity"]) == set(sample["requestContext"]["identity"])
    assert (event["path"], event["queryStringParameters"], event["multiValueQueryStringParameters"]) == (
        "/users/7/reorder-scores", {"limit": "3"}, {"limit": ["2", "3"]})
    assert event["requestContext"]["identity"]["apiKey"] == "k" and event["body"] is None


@pytest.fixture
def local_server(exported):
    server = make_server(prediction_api.handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def http_get(url: str, api_key: str | None = API_KEY) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"x-api-key": api_key} if api_key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers["Content-Type"]


def test_the_local_server_answers_as_the_handler(local_server):
    assert http_get(f"{local_server}/users/7/next-basket") == (200, call("/users/7/next-basket")[1],
                                                               "application/json")
    assert http_get(f"{local_server}/users/7/reorder-scores?limit=1")[1]["scores"] == [
        {"product_id": 2, "product_name": "Organic Strawberries", "probability": 0.7}]
    assert http_get(f"{local_server}/users/x/next-basket")[:2] == (400, call("/users/x/next-basket")[1])
    assert http_get(f"{local_server}/users/7/next-basket", api_key=None)[0] == 401
    assert http_get(f"{local_server}/products/1", api_key="wrong")[0] == 403


def test_lake_serve_generates_and_prints_a_key_when_none_is_set(api_environment, exported):
    environment = {name: value for name, value in os.environ.items() if name != "LAKE_API_KEY"}
    lake_command = str(Path(sys.executable).with_name("lake"))
    server = subprocess.Popen([lake_command, "--lake-root", lake_root(api_environment), "serve", "--port", "0"],
                              env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        address = re.fullmatch(r"prediction API on (http://127\.0\.0\.1:\d+) \(OpenAPI document: /openapi.json\)\n",
                               server.stdout.readline())
        key = re.fullmatch(r"API key \(x-api-key header\): (\S+) \(generated\)\n", server.stdout.readline())
        assert address and key
        served = http_get(f"{address[1]}/users/8/next-basket", api_key=key[1])
        assert served[:2] == (200, call("/users/8/next-basket")[1])
        assert http_get(f"{address[1]}/users/8/next-basket", api_key=API_KEY)[0] == 403
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_template_defines_the_store_s_table_and_a_function_that_may_only_read_it():
    path = TEMPLATES_DIR / "api.yaml"
    resources = load_template(path)["Resources"]

    assert path.read_text(encoding="utf-8") == render(api_stack.template(), api_stack.SOURCES)
    table = resources["ServingTable"]["Properties"]
    assert (table["KeySchema"], table["AttributeDefinitions"], table["BillingMode"]) == (
        KEY_SCHEMA, ATTRIBUTE_DEFINITIONS, "PAY_PER_REQUEST")
    function = resources["PredictionApi"]["Properties"]
    module, _, name = function["Handler"].rpartition(".")
    assert getattr(__import__(module, fromlist=[name]), name) is prediction_api.handler
    assert function["Environment"]["Variables"]["SERVING_TABLE"] == {"Ref": "ServingTable"}
    statements = resources["PredictionApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [statement] = [statement for statement in statements
                   if any(action.startswith("dynamodb:") for action in statement["Action"])]
    assert (statement["Action"], statement["Resource"]) == (["dynamodb:BatchGetItem", "dynamodb:GetItem"],
                                                            [{"Fn::GetAtt": ["ServingTable", "Arn"]}])
    assert resources["ProxyMethod"]["Properties"]["ApiKeyRequired"] is True
    assert resources["UsagePlan"]["Properties"]["Throttle"] == {"RateLimit": {"Ref": "ThrottlingRateLimit"},
                                                                "BurstLimit": {"Ref": "ThrottlingBurstLimit"}}


def test_concurrent_requests_to_the_local_server_each_get_their_own_answer(local_server):
    """The resolver keeps the current request on itself: requests interleaved in it get each
    other's answers (a 400 for another route's parameters, a 502), so the server passes them
    one at a time."""
    paths = {path: call(path)[1] for path in ("/users/7/next-basket", "/users/8/next-basket", "/products/3",
                                              "/users/9/next-basket")}
    answers: list[tuple[str, dict]] = []

    def client(path: str) -> None:
        for _ in range(150):
            answers.append((path, http_get(f"{local_server}{path}")[1]))

    threads = [threading.Thread(target=client, args=(path,)) for path in paths for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 16 * 150
    assert all(body == paths[path] for path, body in answers)
