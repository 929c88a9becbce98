"""Errors of DQDL rulesets: user mistakes, reported as `source:line:column: problem`."""

from __future__ import annotations

from instacart_lake.errors import InputError, LakeError


class DqdlError(InputError):
    """A ruleset that cannot be used as written."""

    def __init__(self, message: str, source: str, line: int, column: int):
        LakeError.__init__(self, f"{source}:{line}:{column}: {message}")
        self.path = source
        self.line = line
        self.column = column


class DqdlSyntaxError(DqdlError):
    """The text is not DQDL."""


class UnsupportedRuleError(DqdlError):
    """A rule type that the local evaluator does not implement (it is never silently passed)."""


class InvalidRuleError(DqdlError):
    """A known rule type written with the wrong parameters, condition or clauses."""
