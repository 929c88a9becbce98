"""Parse DQDL rulesets (grammar in `dqdl.lark`, loaded once) into the `model` dataclasses.

Besides syntax, the parser checks what Glue checks when a ruleset is saved: the rule type is
one this evaluator implements (others are refused with an error quoting the rule), the number
of column parameters, whether a condition, a `where` clause or a `with threshold` is allowed.
It also reads the action annotations (see the package docstring)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr

from instacart_lake.dq.errors import DqdlError, DqdlSyntaxError, InvalidRuleError, UnsupportedRuleError
from instacart_lake.dq.model import (
    Action,
    CompositeRule,
    Condition,
    Dynamic,
    Keyword,
    Now,
    Number,
    Quantity,
    Rule,
    RuleExpression,
    Ruleset,
    RulesetRule,
    Text,
)
from instacart_lake.dq.rule_types import (
    FORBIDDEN,
    REQUIRED,
    RULE_TYPES,
    RuleTypeSpec,
    primary_columns,
    split_reference,
)
from instacart_lake.errors import LakeError

_STRING_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|#[^\n]*', re.S)
_ACTION_COMMENT = re.compile(r"#\s*action\s*:\s*(\S*)\s*$")
_READABLE_TERMINALS = {
    "NAME": "a rule type or column name",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "COMPARATOR": "a comparison (= != > >= < <=)",
    "AND": "and",
    "OR": "or",
    "NOT": "not",
    "BETWEEN": "between",
    "NULL": "NULL",
    "EMPTY": "EMPTY",
    "WHITESPACES_ONLY": "WHITESPACES_ONLY",
}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("instacart_lake.dq").joinpath("dqdl.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True)


def parse_ruleset(text: str, source_name: str) -> Ruleset:
    """Parse a DQDL document. Raises a `DqdlError` (a LakeError) naming `source_name`, the line
    and the column of the first problem."""
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:
        line, column = _error_position(text, error)
        raise DqdlSyntaxError(_describe_syntax_error(error), source_name, line, column) from None
    try:
        located = _ToModel(text, source_name).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, DqdlError):
            raise error.orig_exc from None
        raise
    actions = _read_actions(text, source_name, located)
    rules = tuple(
        RulesetRule(item.node, actions.get(index, Action.STOP), item.line) for index, item in enumerate(located)
    )
    for rule, item in zip(rules, located):
        _check_action(rule, item, source_name)
    return Ruleset(source_name, rules)


def load_ruleset(path: str | Path) -> Ruleset:
    """Read and parse a ruleset file (UTF-8)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LakeError(f"{path}: no such ruleset file") from None
    return parse_ruleset(text, str(path))


@dataclass(frozen=True)
class _Located:
    node: RuleExpression
    start: int
    end: int
    line: int
    column: int


def _unquote(token: str) -> str:
    """Strip the quotes; a backslash escapes the next character, as in Glue's DQDL parser."""
    return re.sub(r"\\(.)", r"\1", token[1:-1], flags=re.S)


def _normalise(text: str) -> str:
    """The rule as written, with comments dropped and whitespace outside strings collapsed."""
    parts: list[str] = []
    between_strings, position = "", 0
    for match in _STRING_OR_COMMENT.finditer(text):
        between_strings += text[position : match.start()]
        position = match.end()
        if match.group().startswith('"'):
            parts += [re.sub(r"\s+", " ", between_strings), match.group()]
            between_strings = ""
        else:
            between_strings += " "
    parts.append(re.sub(r"\s+", " ", between_strings + text[position:]))
    return "".join(parts).strip()


@v_args(meta=True)
class _ToModel(Transformer):
    def __init__(self, text: str, source_name: str):
        super().__init__()
        self._text = text
        self._source = source_name

    def _locate(self, node: RuleExpression, meta) -> _Located:
        return _Located(node, meta.start_pos, meta.end_pos, meta.line, meta.column)

    def _slice(self, meta) -> str:
        return _normalise(self._text[meta.start_pos : meta.end_pos])

    def start(self, meta, children):
        return [child for child in children if isinstance(child, _Located)]

    def group(self, meta, children):
        inner = next(child for child in children if isinstance(child, _Located))
        return self._locate(inner.node, meta)

    def and_rule(self, meta, children):
        return self._composite("and", meta, children)

    def or_rule(self, meta, children):
        return self._composite("or", meta, children)

    def _composite(self, operator: str, meta, children) -> _Located:
        parts = tuple(child.node for child in children if isinstance(child, _Located))
        return self._locate(CompositeRule(operator, parts, self._slice(meta)), meta)

    def rule(self, meta, children):
        rule_type = str(children[0])
        parameters = tuple(value for kind, value in children[1:] if kind == "parameter")
        condition = next((value for kind, value in children[1:] if kind == "condition"), None)
        where = next((value for kind, value in children[1:] if kind == "where"), None)
        threshold = next((value for kind, value in children[1:] if kind == "threshold"), None)
        rule = Rule(rule_type, parameters, condition, where, threshold, self._slice(meta))
        _validate(rule, self._source, meta.line, meta.column)
        return self._locate(rule, meta)

    def quoted_parameter(self, meta, children):
        return ("parameter", _unquote(children[0]))

    def bare_parameter(self, meta, children):
        return ("parameter", str(children[0]))

    def where_clause(self, meta, children):
        return ("where", _unquote(children[0]))

    def threshold(self, meta, children):
        return ("threshold", children[0][1])

    def compare(self, meta, children):
        return ("condition", Condition(str(children[0]), (children[1],)))

    def between(self, meta, children):
        operands = tuple(child for child in children if not isinstance(child, Token))
        return ("condition", Condition("between", operands, _negated(children)))

    def in_set(self, meta, children):
        operands = tuple(child for child in children if not isinstance(child, Token))
        return ("condition", Condition("in", operands, _negated(children)))

    def matches(self, meta, children):
        pattern = next(child for child in children if isinstance(child, Token) and child.type == "STRING")
        return ("condition", Condition("matches", (Text(_unquote(pattern)),), _negated(children)))

    def number(self, meta, children):
        return Number(float(children[0]))

    def string(self, meta, children):
        return Text(_unquote(children[0]))

    def null_keyword(self, meta, children):
        return Keyword("NULL")

    def empty_keyword(self, meta, children):
        return Keyword("EMPTY")

    def whitespaces_keyword(self, meta, children):
        return Keyword("WHITESPACES_ONLY")

    def now(self, meta, children):
        return Now()

    def now_offset(self, meta, children):
        tokens = {token.type: str(token) for token in children}
        offset = timedelta(**{tokens["DURATION_UNIT"]: float(tokens["NUMBER"])})
        return Now(offset if tokens["SIGN"] == "+" else -offset)

    def quantity(self, meta, children):
        return Quantity(float(children[0]), str(children[1]))

    def function_call(self, meta, children):
        return Dynamic(self._slice(meta))

    def number_expression(self, meta, children):
        return Dynamic(self._slice(meta))


def _validate(rule: Rule, source_name: str, line: int, column: int) -> None:
    """Refuse rule types this evaluator does not implement and rules written in a shape that
    their type does not take."""

    def invalid(problem: str) -> InvalidRuleError:
        return InvalidRuleError(f"{problem} in rule: {rule.text}", source_name, line, column)

    spec = RULE_TYPES.get(rule.rule_type)
    if spec is None:
        supported = ", ".join(sorted(RULE_TYPES))
        raise UnsupportedRuleError(
            f"unsupported rule type {rule.rule_type} in rule: {rule.text} (supported: {supported})",
            source_name,
            line,
            column,
        )
    for condition in (rule.condition, rule.threshold):
        for operand in condition.operands if condition else ():
            if isinstance(operand, Dynamic):
                raise invalid(f"dynamic rules ({operand.text}) compare with earlier runs, which are not kept locally")
            if isinstance(operand, Quantity):
                raise invalid(f"{rule.rule_type} cannot compare with a duration or size")
    count = len(rule.parameters)
    if count < spec.min_parameters or (spec.max_parameters is not None and count > spec.max_parameters):
        raise invalid(f"{rule.rule_type} takes {_parameter_count(spec)} parameter(s), not {count}")
    if spec.condition == REQUIRED and rule.condition is None:
        raise invalid(f"{rule.rule_type} needs a condition such as `> 0`")
    if spec.condition == FORBIDDEN and rule.condition is not None:
        raise invalid(f"{rule.rule_type} takes no condition")
    if rule.condition is not None and spec.numeric_condition and not rule.condition.is_numeric:
        raise invalid(f"{rule.rule_type} needs a numeric condition")
    if rule.where is not None and not spec.where:
        raise invalid(f"{rule.rule_type} does not support a where clause")
    if rule.threshold is not None and not spec.threshold:
        raise invalid(f"{rule.rule_type} does not support `with threshold`")
    if rule.threshold is not None and not rule.threshold.is_numeric:
        raise invalid("a threshold needs a numeric condition")
    if rule.rule_type == "CustomSql" and rule.condition is not None and rule.threshold is not None:
        raise invalid("CustomSql takes either a condition or `with threshold`, not both")
    if rule.rule_type == "ColumnValues":
        keywords = [operand for operand in rule.condition.operands if isinstance(operand, Keyword)]
        if keywords and rule.condition.operator not in ("=", "!=", "in"):
            raise invalid(f"{keywords[0].name} can only be used with =, != or in")
    if rule.rule_type == "ReferentialIntegrity":
        reference = split_reference(rule.parameters[1])
        if reference is None:
            raise invalid('the reference must be written "alias.column" or "alias.{column1,column2}"')
        if len(primary_columns(rule.parameters[0])) != len(reference[1]):
            raise invalid("the primary and reference column lists must have the same length")


def _parameter_count(spec: RuleTypeSpec) -> str:
    if spec.max_parameters is None:
        return f"{spec.min_parameters} or more"
    if spec.max_parameters == spec.min_parameters:
        return str(spec.min_parameters)
    return f"{spec.min_parameters} to {spec.max_parameters}"


def _negated(children) -> bool:
    return any(isinstance(child, Token) and child.type == "NOT" for child in children)


def _read_actions(text: str, source_name: str, located: list[_Located]) -> dict[int, Action]:
    """Map rule index -> action from `# action: <stop|warn|quarantine>` comments: an annotation
    belongs to the first rule that starts after it."""
    actions: dict[int, Action] = {}
    for match in _STRING_OR_COMMENT.finditer(text):
        annotation = _ACTION_COMMENT.match(match.group())
        if annotation is None:
            continue
        line_start = text.rfind("\n", 0, match.start()) + 1
        line, column = text.count("\n", 0, match.start()) + 1, match.start() - line_start + 1
        value = annotation.group(1).lower()
        if value not in {action.value for action in Action}:
            raise DqdlError(
                f"unknown action {annotation.group(1)!r} (use stop, warn or quarantine)", source_name, line, column
            )
        inside_rule = any(item.start < match.start() < item.end for item in located)
        if inside_rule or text[line_start : match.start()].strip():
            raise DqdlError("an action comment must be on its own line, before its rule", source_name, line, column)
        following = [index for index, item in enumerate(located) if item.start > match.start()]
        if not following:
            raise DqdlError("action comment is not followed by a rule", source_name, line, column)
        if following[0] in actions:
            raise DqdlError("two action comments for one rule", source_name, line, column)
        actions[following[0]] = Action(value)
    return actions


def _check_action(rule: RulesetRule, item: _Located, source_name: str) -> None:
    if rule.action is Action.QUARANTINE and not all(RULE_TYPES[leaf.rule_type].row_level for leaf in rule.leaves()):
        row_level = ", ".join(sorted(name for name, spec in RULE_TYPES.items() if spec.row_level))
        raise InvalidRuleError(
            f"action quarantine needs row-level rules ({row_level}) in rule: {rule.text}",
            source_name,
            item.line,
            item.column,
        )


def _error_position(text: str, error: UnexpectedInput) -> tuple[int, int]:
    """Where the error is; an early end of text is reported at the end, not at the last token."""
    at_end = isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END")
    if at_end:
        return text.count("\n") + 1, len(text) - text.rfind("\n")
    return error.line, error.column


def _describe_syntax_error(error: UnexpectedInput) -> str:
    if isinstance(error, UnexpectedCharacters):
        return f"syntax error: unexpected character {error.char!r}"
    if isinstance(error, UnexpectedEOF):
        return "syntax error: the ruleset ends early (missing `]`?)"
    if isinstance(error, UnexpectedToken):
        found = "end of text" if error.token.type == "$END" else repr(str(error.token))
        expected = sorted({_readable(name) for name in error.expected})
        return f"syntax error: unexpected {found}; expected {', '.join(expected)}"
    return "syntax error"


def _readable(terminal: str) -> str:
    if terminal in _READABLE_TERMINALS:
        return _READABLE_TERMINALS[terminal]
    pattern = _lark().get_terminal(terminal).pattern
    return repr(pattern.value) if isinstance(pattern, PatternStr) else terminal
