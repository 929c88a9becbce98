"""What the prediction API answers: the response bodies of its OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BasketProduct(BaseModel):
    product_id: int
    product_name: str | None = Field(description="null for a product missing from the products table")


class NextBasket(BaseModel):
    """The basket of the user's next order that maximizes the expected F1."""

    user_id: int
    order_id: int = Field(description="the user's test order, whose basket is predicted")
    products: list[BasketProduct]
    includes_none: bool = Field(description="whether None (no reordered product) is predicted too")
    expected_f1: float
    model_version: str


class ReorderScore(BaseModel):
    product_id: int
    product_name: str | None
    probability: float = Field(description="the probability that the product is in the user's next order")


class ReorderScores(BaseModel):
    user_id: int
    model_version: str
    candidates: int = Field(description="how many products of the user's prior orders were scored")
    scores: list[ReorderScore] = Field(description="the most probable first, at most `limit`")


class Product(BaseModel):
    product_id: int
    product_name: str | None
    aisle: str | None
    department: str | None
    model_version: str


class Health(BaseModel):
    status: str
    model_version: str | None = Field(description="the model version served; null before the first export")
    exported_at: str | None


class ErrorBody(BaseModel):
    statusCode: int
    message: str
