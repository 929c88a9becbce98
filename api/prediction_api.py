"""The prediction API: a Lambda handler for an API Gateway REST API (proxy integration) over
the serving store of the gold tables (instacart_lake.serving).

    GET /users/{user_id}/next-basket            the predicted basket of the user's next order
    GET /users/{user_id}/reorder-scores?limit=K  the user's K most probable reorders
    GET /products/{product_id}                   a product's name, aisle and department
    GET /health                                  the model version served
    GET /openapi.json                            the OpenAPI 3 document of all of these

A malformed id or limit is a 400, an unknown user or product a 404; the body of every error
is {"statusCode", "message"}, never a stack trace. The API key (x-api-key) is checked by API
Gateway on AWS (an API key and a usage plan, cloudformation/api.yaml) and by this handler
elsewhere, against LAKE_API_KEY: 401 without a key, 403 with a wrong one.

Environment (set by the template): LAKE_PROFILE (aws) and SERVING_TABLE (the DynamoDB
table); locally LAKE_ROOT (the embedded store in the lake's meta location) and LAKE_API_KEY.
The store's client and the logger are made once per container.
"""

from __future__ import annotations

import hmac
import os
from functools import lru_cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from api.models import BasketProduct, ErrorBody, Health, NextBasket, Product, ReorderScore, ReorderScores
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.serving import PRODUCT, USER, Pointer, ServingStore, open_serving_store

API_KEY_HEADER = "x-api-key"
MAX_ID = 2**31 - 1
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SECURITY = [{"apiKey": []}]
PUBLIC_PATHS = frozenset({"/health", "/openapi.json"})
OTHER_METHODS = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "QUERY"]
"""Answered 405 on the API's paths (other methods API Gateway itself refuses)."""

logger = Logger(service="prediction-api")
app = APIGatewayRestResolver(enable_validation=True)
app.configure_openapi(
    title="Instacart reorder predictions", version="1.0.0",
    description="The next basket and the reorder scores of the gold tables' current model version.",
    security_schemes={"apiKey": APIKey(name=API_KEY_HEADER, in_=APIKeyIn.header)},
)


READ_ERRORS = (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND,
               HTTPStatus.SERVICE_UNAVAILABLE)


def read_responses(model: type, description: str) -> dict[int, dict[str, Any]]:
    """The documented responses of a read: `model` on success, an ErrorBody on every error."""
    def response(what: str, body: type) -> dict[str, Any]:
        return {"description": what, "content": {content_types.APPLICATION_JSON: {"model": body}}}

    return {HTTPStatus.OK.value: response(description, model),
            **{status.value: response(status.phrase, ErrorBody) for status in READ_ERRORS}}
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="a user id")]
ProductId = Annotated[int, Path(ge=1, le=MAX_ID, description="a product id")]


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@lru_cache(maxsize=1)
def serving_store() -> ServingStore:
    return open_serving_store(Lake.from_environment(), os.environ.get("SERVING_TABLE"))


def current_version() -> Pointer:
    pointer = serving_store().current()
    if pointer is None:
        raise ServiceError(HTTPStatus.SERVICE_UNAVAILABLE.value, "no model version has been exported yet")
    return pointer


def user_document(user_id: int) -> tuple[str, dict[str, Any]]:
    version = current_version().model_version
    document = serving_store().get(USER, user_id, version)
    if document is None:
        raise NotFoundError(f"no prediction for user {user_id} in model version {version}")
    return version, document


@app.get("/users/<user_id>/next-basket", summary="The predicted basket of the user's next order",
         responses=read_responses(NextBasket, "the basket"), security=SECURITY)
def get_next_basket(user_id: UserId) -> NextBasket:
    version, document = user_document(user_id)
    return NextBasket(user_id=user_id, order_id=document["order_id"],
                      products=[BasketProduct(**product) for product in document["basket"]],
                      includes_none=document["includes_none"], expected_f1=document["expected_f1"],
                      model_version=version)


@app.get("/users/<user_id>/reorder-scores", summary="The user's most probable reorders",
         responses=read_responses(ReorderScores, "the scores"), security=SECURITY)
def get_reorder_scores(user_id: UserId,
                       limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="how many scores")] = DEFAULT_LIMIT
                       ) -> ReorderScores:
    version, document = user_document(user_id)
    top = document["scores"][:limit]
    products = serving_store().get_many(PRODUCT, [product for product, _ in top], version)
    return ReorderScores(user_id=user_id, model_version=version, candidates=len(document["scores"]),
                         scores=[ReorderScore(product_id=product, probability=probability,
                                              product_name=products.get(product, {}).get("product_name"))
                                 for product, probability in top])


@app.get("/products/<product_id>", summary="A product", responses=read_responses(Product, "the product"),
         security=SECURITY)
def get_product(product_id: ProductId) -> Product:
    version = current_version().model_version
    document = serving_store().get(PRODUCT, product_id, version)
    if document is None:
        raise NotFoundError(f"no product {product_id}")
    return Product(**document, model_version=version)


@app.get("/health", summary="The model version served")
def get_health() -> Health:
    pointer = serving_store().current()
    if pointer is None:
        return Health(status="no model version exported", model_version=None, exported_at=None)
    return Health(status="ok", model_version=pointer.model_version, exported_at=pointer.exported_at)


@app.get("/openapi.json", include_in_schema=False)
def get_openapi_document():
    return Response(HTTPStatus.OK.value, content_types.APPLICATION_JSON, openapi_document())


def method_not_allowed(**path_parameters: str):
    response = error_response(HTTPStatus.METHOD_NOT_ALLOWED, f"{app.current_event.http_method} is not allowed here; "
                                                             "the API answers GET only")
    response.headers["Allow"] = "GET"
    return response


for route_path in ("/users/<user_id>/next-basket", "/users/<user_id>/reorder-scores", "/products/<product_id>",
                   "/health", "/openapi.json"):
    app.route(route_path, method=OTHER_METHODS, include_in_schema=False, enable_validation=False)(method_not_allowed)


@lru_cache(maxsize=1)
def openapi_document() -> str:
    return app.get_openapi_json_schema()


@app.exception_handler(RequestValidationError)
def malformed_request(error: RequestValidationError) -> Response:
    problems = "; ".join(f"{'.'.join(str(part) for part in problem['loc'][1:])}: {problem['msg']}"
                         for problem in error.errors())
    return error_response(HTTPStatus.BAD_REQUEST, problems)


def error_response(status: HTTPStatus, message: str) -> Response:
    return Response(status.value, content_types.APPLICATION_JSON, ErrorBody(statusCode=status.value,
                                                                             message=message).model_dump_json())


def api_key_failure(event: dict[str, Any]) -> Response | None:
    """Off Lambda, the 401 or 403 that API Gateway's key check stands for; None when the key is right."""
    if on_lambda() or event.get("path") in PUBLIC_PATHS:
        return None
    expected = os.environ.get("LAKE_API_KEY")
    if not expected:
        raise LakeError("LAKE_API_KEY is not set: off Lambda the handler checks x-api-key against it")
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    given = headers.get(API_KEY_HEADER)
    if given is None:
        return error_response(HTTPStatus.UNAUTHORIZED, f"missing API key: send it in the {API_KEY_HEADER} header")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return error_response(HTTPStatus.FORBIDDEN, "wrong API key")
    return None


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = api_key_failure(event)
    if refused is not None:
        return _proxy_response(refused)
    return app.resolve(event, context)


def _proxy_response(response: Response) -> dict[str, Any]:
    """A response in the proxy integration's shape, as the resolver answers (multiValueHeaders)."""
    return {"statusCode": response.status_code, "multiValueHeaders": {"Content-Type": [response.content_type]},
            "body": response.body, "isBase64Encoded": False}
