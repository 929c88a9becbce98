"""The prediction API's handler behind a local HTTP server, as API Gateway runs it: each
request becomes the REST API proxy event (resource /{proxy+}) that Lambda would receive, and
the handler's proxy response becomes the HTTP response."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from instacart_lake.orchestration.lambda_context import LocalLambdaContext

STAGE = "local"
FUNCTION_NAME = "prediction-api"
UNKNOWN_IDENTITY = ("cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "accessKey",
                    "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user")
"""The caller's identity fields that API Gateway fills for IAM or Cognito callers, None for an API key."""
FUNCTION_FAILED = {"statusCode": 502, "headers": {"Content-Type": "application/json"},
                   "body": '{"message": "Internal server error"}'}
logger = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's two views of repeated names: the last value, and all values."""
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def proxy_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str) -> dict:
    """The API Gateway REST API proxy event of one HTTP request (`target`: path and query)."""
    parts = urlsplit(target)
    path = unquote(parts.path) or "/"
    query, multi_query = _single_and_multi(parse_qsl(parts.query, keep_blank_values=True))
    single_headers, multi_headers = _single_and_multi(headers)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    lowered = {name.lower(): value for name, value in (single_headers or {}).items()}
    now = dt.datetime.now(dt.timezone.utc)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "proxy",
            "protocol": "HTTP/1.1",
            "accountId": "000000000000",
            "apiId": "local",
            "identity": {**dict.fromkeys(UNKNOWN_IDENTITY), "sourceIp": source_ip,
                         "userAgent": lowered.get("user-agent"), "apiKey": lowered.get("x-api-key")},
        },
        "body": text if body else None,
        "isBase64Encoded": encoded and bool(body),
    }


def response_parts(response: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a proxy response (headers and multiValueHeaders merged)."""
    headers = [(name, value) for name, value in (response.get("headers") or {}).items()]
    headers += [(name, value) for name, values in (response.get("multiValueHeaders") or {}).items()
                for value in values if (name, value) not in headers]
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
    return int(response["statusCode"]), headers, data


def make_request_handler(handler: Handler) -> type[BaseHTTPRequestHandler]:
    """Requests are read and answered on their connections' threads, but go through `handler`
    one at a time, as a Lambda container takes them: powertools' resolver keeps the current
    event on itself."""
    one_at_a_time = threading.Lock()

    class ProxyRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms wait for the client's acknowledgement
        wbufsize = -1  # the response is buffered, and sent in one write when the request is done

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            event = proxy_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
            try:
                with one_at_a_time:
                    response = handler(event, LocalLambdaContext(FUNCTION_NAME))
            except Exception:  # what API Gateway answers when the function fails
                logger.exception("the handler failed on %s %s", self.command, self.path)
                response = FUNCTION_FAILED
            status, headers, data = response_parts(response)
            self.send_response(status)
            for name, value in headers:
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            """Every method (do_GET, do_POST, ...) goes to the handler, as with API Gateway's ANY."""
            if name.startswith("do_"):
                return self._proxy
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            """No access log: the load benchmark would measure the terminal."""

    return ProxyRequestHandler


def make_server(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server on `host`:`port` (0: a free port), one thread per connection."""
    server = ThreadingHTTPServer((host, port), make_request_handler(handler))
    server.daemon_threads = True
    return server
