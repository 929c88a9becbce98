"""Failure reasons worded as Glue Data Quality (Deequ) words them, with numbers printed the
way the JVM prints a double (4.0, 0.75, 1.0E7)."""

from __future__ import annotations

import math

import numpy as np


def jvm_double(value: float) -> str:
    """`Double.toString`: plain between 1e-3 and 1e7, scientific (1.5E-4) outside."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(float(value))
    mantissa, exponent = np.format_float_scientific(value, unique=True, trim="0").split("e")
    return f"{mantissa}E{int(exponent)}"


def constraint_failure(value: float) -> str:
    return f"Value: {jvm_double(value)} does not meet the constraint requirement!"


def null_value_failure() -> str:
    return "Value: NULL does not meet the constraint requirement!"


def missing_column(column: str) -> str:
    return f"Input data does not include column {column}!"


def empty_state(analyzer: str) -> str:
    return f"Empty state for analyzer {analyzer}, all input values were NULL."


def wrong_type(column: str, expected: str, found: str) -> str:
    return f"Expected type of column {column} to be {expected}, but found {found} instead!"
