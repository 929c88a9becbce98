"""The prediction API's OpenAPI document fuzzed against the running local server with
schemathesis: whatever ids and limits it generates, no response is a 5xx and every response
conforms to the document (status code, content type, headers, body schema)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from serving_samples import write_gold_lake

from api import prediction_api
from api.local_server import make_server
from instacart_lake.jobs.export_serving import run_export_serving
from instacart_lake.locations import uri_to_path
from instacart_lake.serving import open_serving_store

API_KEY = "fuzz-key"
CONFIG = SchemathesisConfig.from_dict({"auth": {"openapi": {"apiKey": {"api_key": API_KEY}}}})
"""The key goes in as the document's apiKey scheme, so the cases meant to lack it do."""


@pytest.fixture
def api_schema(lake, monkeypatch):
    """The document served by a local server over a lake whose gold tables (users 1 to 1,000)
    are exported."""
    root = str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent)
    for name, value in {"LAKE_PROFILE": "local", "LAKE_ROOT": root, "LAKE_API_KEY": API_KEY}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    prediction_api.serving_store.cache_clear()
    write_gold_lake(lake, users=range(1, 1001))
    run_export_serving(lake, open_serving_store(lake))
    server = make_server(prediction_api.handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield schemathesis.openapi.from_url(f"http://127.0.0.1:{server.server_address[1]}/openapi.json", config=CONFIG)
    server.shutdown()
    server.server_close()
    prediction_api.serving_store.cache_clear()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_response_conforms(case):
    case.call_and_validate()
