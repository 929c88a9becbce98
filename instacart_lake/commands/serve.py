"""`lake serve`: the prediction API's Lambda handler on a local HTTP server, over the lake's
serving store (what the export_serving stage wrote)."""

from __future__ import annotations

import argparse
import gc
import os
import secrets

from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.orchestration.event_loop import lake_environment

HELP = ("serve the prediction API (GET /users/{id}/next-basket, /users/{id}/reorder-scores, /products/{id}, "
        "/health, /openapi.json) on a local HTTP server; the API key is LAKE_API_KEY, or one generated and printed")
HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the port on {HOST} (default {DEFAULT_PORT})")


def run(args: argparse.Namespace, lake: Lake) -> int:
    from api.local_server import make_server
    from api.prediction_api import handler

    given = os.environ.get("LAKE_API_KEY")
    api_key = given or secrets.token_urlsafe(24)
    with lake_environment(lake, {"LAKE_API_KEY": api_key}):
        try:
            server = make_server(handler, HOST, args.port)
        except OSError as error:
            raise LakeError(f"cannot listen on {HOST}:{args.port}: {error.strerror}") from None
        host, port = server.server_address[:2]
        print(f"prediction API on http://{host}:{port} (OpenAPI document: /openapi.json)", flush=True)
        print("API key (x-api-key header): " + ("LAKE_API_KEY's" if given else f"{api_key} (generated)"), flush=True)
        gc.freeze()  # what start-up made (the handler, its models) stays out of the collector's passes
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0
