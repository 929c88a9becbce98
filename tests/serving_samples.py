"""Small gold tables of two model versions for the serving store and the prediction API,
written with deltalake in the layout and schema that the gold_predictions job gives them, and
an API Gateway REST API proxy event as the AWS documentation shows it."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from instacart_lake.context import Lake
from instacart_lake.locations import uri_to_path

OLD_VERSION = "reorder-20250101-120000-aaaaaaaa"
NEW_VERSION = "reorder-20250201-120000-bbbbbbbb"
SCORED_AT = dt.datetime(2025, 2, 1, 12, 30, tzinfo=dt.timezone.utc)

PRODUCTS = pa.table({
    "product_id": pa.array([1, 2, 3, 4], pa.int32()),
    "product_name": ["Banana", "Organic Strawberries", "Sparkling Water", "Dish Soap"],
    "aisle_id": pa.array([24, 24, 115, 99], pa.int32()),
    "department_id": pa.array([4, 4, 7, 99], pa.int32()),
})
AISLES = pa.table({"aisle_id": pa.array([24, 115], pa.int32()), "aisle": ["fresh fruits", "water seltzer"]})
DEPARTMENTS = pa.table({"department_id": pa.array([4, 7], pa.int32()), "department": ["produce", "beverages"]})

NEW_BASKETS = [  # user 7 has three candidates; user 8's prior lines were all quarantined: None alone
    {"order_id": 70, "user_id": 7, "products": [2, 1], "includes_none": False, "expected_f1": 0.61},
    {"order_id": 80, "user_id": 8, "products": [], "includes_none": True, "expected_f1": 1.0},
]
NEW_SCORES = [(7, 1, 0.4), (7, 2, 0.7), (7, 3, 0.1234567891)]
OLD_BASKETS = [{"order_id": 70, "user_id": 7, "products": [3], "includes_none": True, "expected_f1": 0.3}]
OLD_SCORES = [(7, 3, 0.5), (7, 1, 0.2)]


def _baskets(rows: list[dict], version: str) -> pa.Table:
    return pa.table({
        "order_id": pa.array([row["order_id"] for row in rows], pa.int32()),
        "user_id": pa.array([row["user_id"] for row in rows], pa.int32()),
        "products": pa.array([row["products"] for row in rows], pa.list_(pa.int32())),
        "includes_none": [row["includes_none"] for row in rows],
        "expected_f1": pa.array([row["expected_f1"] for row in rows], pa.float64()),
        "model_version": [version] * len(rows),
    })


def _scores(rows: list[tuple], version: str) -> pa.Table:
    return pa.table({
        "user_id": pa.array([row[0] for row in rows], pa.int32()),
        "product_id": pa.array([row[1] for row in rows], pa.int32()),
        "probability": pa.array([row[2] for row in rows], pa.float64()),
        "model_version": [version] * len(rows),
        "scored_at": pa.array([SCORED_AT] * len(rows), pa.timestamp("us", tz="UTC")),
    })


def _write(lake: Lake, zone: str, name: str, table: pa.Table, partitioned: bool = False) -> None:
    write_deltalake(uri_to_path(lake.locations.table_uri(zone, name)), table, mode="append",
                    partition_by=["model_version"] if partitioned else None)


def many_users(users: range) -> tuple[list[dict], list[tuple]]:
    """Baskets and scores of `users` (user u: order 10u, products 1 to u % 4 + 1), for fuzzing."""
    baskets = [{"order_id": 10 * user, "user_id": user, "products": list(range(1, user % 4 + 2)),
                "includes_none": user % 3 == 0, "expected_f1": 0.5} for user in users]
    scores = [(user, product, 1 / (product + 1)) for user in users for product in range(1, user % 4 + 2)]
    return baskets, scores


def write_gold_lake(lake: Lake, users: range | None = None) -> None:
    """The clean products, aisles and departments, and both model versions' gold tables; the
    new version has users 7 and 8, or `users` (many_users)."""
    _write(lake, "clean", "products", PRODUCTS)
    _write(lake, "clean", "aisles", AISLES)
    _write(lake, "clean", "departments", DEPARTMENTS)
    new_baskets, new_scores = many_users(users) if users else (NEW_BASKETS, NEW_SCORES)
    for version, baskets, scores in ((OLD_VERSION, OLD_BASKETS, OLD_SCORES), (NEW_VERSION, new_baskets, new_scores)):
        _write(lake, "curated", "next_basket", _baskets(baskets, version), partitioned=True)
        _write(lake, "curated", "reorder_scores", _scores(scores, version), partitioned=True)


REST_API_PROXY_EVENT: dict[str, Any] = {
    "body": None,
    "resource": "/{proxy+}",
    "path": "/health",
    "httpMethod": "GET",
    "isBase64Encoded": False,
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": {"proxy": "health"},
    "stageVariables": None,
    "headers": {
        "Accept": "application/json", "Host": "1234567890.execute-api.eu-west-1.amazonaws.com",
        "User-Agent": "Custom User Agent String", "X-Forwarded-For": "127.0.0.1, 127.0.0.2",
        "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https",
    },
    "multiValueHeaders": {
        "Accept": ["application/json"], "Host": ["1234567890.execute-api.eu-west-1.amazonaws.com"],
        "User-Agent": ["Custom User Agent String"], "X-Forwarded-For": ["127.0.0.1, 127.0.0.2"],
        "X-Forwarded-Port": ["443"], "X-Forwarded-Proto": ["https"],
    },
    "requestContext": {
        "accountId": "123456789012",
        "resourceId": "123456",
        "stage": "prod",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "requestTime": "09/Apr/2015:12:34:56 +0000",
        "requestTimeEpoch": 1428582896000,
        "identity": {"cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None, "caller": None,
                     "accessKey": None, "sourceIp": "127.0.0.1", "cognitoAuthenticationType": None,
                     "cognitoAuthenticationProvider": None, "userArn": None, "userAgent": "Custom User Agent String",
                     "user": None, "apiKey": None},
        "path": "/prod/health",
        "resourcePath": "/{proxy+}",
        "httpMethod": "GET",
        "apiId": "1234567890",
        "protocol": "HTTP/1.1",
    },
}


def rest_api_event(path: str, query: dict[str, str] | None = None, api_key: str | None = None,
                   method: str = "GET") -> dict[str, Any]:
    """The proxy event of `method` `path`?`query`, with the x-api-key header when given."""
    event = copy.deepcopy(REST_API_PROXY_EVENT)
    event.update(path=path, httpMethod=method, pathParameters={"proxy": path.lstrip("/")},
                 queryStringParameters=query,
                 multiValueQueryStringParameters={name: [value] for name, value in query.items()} if query else None)
    event["requestContext"].update(path=f"/prod{path}", httpMethod=method)
    if api_key is not None:
        event["headers"]["x-api-key"] = api_key
        event["multiValueHeaders"]["x-api-key"] = [api_key]
        event["requestContext"]["identity"]["apiKey"] = api_key
    return event
