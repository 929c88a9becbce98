"""DQDL parsing: rule structure, literals, composite rules, actions, and refusals with the
source, line and column."""

from datetime import timedelta

import pytest

from instacart_lake.dq import (
    Action,
    CompositeRule,
    Condition,
    DqdlError,
    DqdlSyntaxError,
    InvalidRuleError,
    Rule,
    UnsupportedRuleError,
    load_ruleset,
    parse_ruleset,
)
from instacart_lake.dq.messages import jvm_double
from instacart_lake.dq.model import Keyword, Now, Number, Text
from instacart_lake.errors import LakeError


def only_rule(text: str) -> Rule:
    (entry,) = parse_ruleset(f"Rules = [ {text} ]", "test.dqdl").rules
    return entry.expression


def test_rules_with_parameters_conditions_where_and_threshold():
    ruleset = parse_ruleset(
        """Rules = [
            RowCount between 10 and 20,
            IsPrimaryKey order_id "user_id",
            Completeness "days_since_prior" >= 0.9 where "eval_set = 'prior'",
            ColumnValues "eval_set" in ["prior", "train"] where "order_number > 1" with threshold > 0.95,
            ReferentialIntegrity "user_id,product_id" "products.{user_id,product_id}" = 1.0
        ]""",
        "orders.dqdl",
    )
    assert [entry.expression for entry in ruleset.rules] == [
        Rule(
            "RowCount", (), Condition("between", (Number(10.0), Number(20.0))), None, None, "RowCount between 10 and 20"
        ),
        Rule("IsPrimaryKey", ("order_id", "user_id"), None, None, None, 'IsPrimaryKey order_id "user_id"'),
        Rule(
            "Completeness",
            ("days_since_prior",),
            Condition(">=", (Number(0.9),)),
            "eval_set = 'prior'",
            None,
            'Completeness "days_since_prior" >= 0.9 where "eval_set = \'prior\'"',
        ),
        Rule(
            "ColumnValues",
            ("eval_set",),
            Condition("in", (Text("prior"), Text("train"))),
            "order_number > 1",
            Condition(">", (Number(0.95),)),
            'ColumnValues "eval_set" in ["prior", "train"] where "order_number > 1" with threshold > 0.95',
        ),
        Rule(
            "ReferentialIntegrity",
            ("user_id,product_id", "products.{user_id,product_id}"),
            Condition("=", (Number(1.0),)),
            None,
            None,
            'ReferentialIntegrity "user_id,product_id" "products.{user_id,product_id}" = 1.0',
        ),
    ]
    assert ruleset.name == "orders.dqdl"
    assert [entry.line for entry in ruleset.rules] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ('Mean "x" != -3.5', Condition("!=", (Number(-3.5),))),
        ('ColumnValues "x" not between 1 and 9', Condition("between", (Number(1.0), Number(9.0)), negated=True)),
        ('ColumnValues "x" not in [1, 2]', Condition("in", (Number(1.0), Number(2.0)), negated=True)),
        (
            'ColumnValues "x" in [NULL, empty, WHITESPACES_ONLY, "a"]',
            Condition("in", (Keyword("NULL"), Keyword("EMPTY"), Keyword("WHITESPACES_ONLY"), Text("a"))),
        ),
        ('ColumnValues "x" = NULL', Condition("=", (Keyword("NULL"),))),
        ('ColumnValues "x" matches "[a-z]+\\\\d"', Condition("matches", (Text("[a-z]+\\d"),))),
        ('ColumnValues "x" not matches "a\\"b"', Condition("matches", (Text('a"b'),), negated=True)),
        ('ColumnValues "d" > (now() - 3 days)', Condition(">", (Now(timedelta(days=-3)),))),
        ('ColumnValues "d" <= (now() + 12 hours)', Condition("<=", (Now(timedelta(hours=12)),))),
        ('ColumnValues "d" between "2024-01-01" and now()', Condition("between", (Text("2024-01-01"), Now()))),
    ],
)
def test_condition_literals(text, condition):
    assert only_rule(text).condition == condition


def test_composite_rules_and_binds_tighter_than_or():
    ruleset = parse_ruleset(
        """Rules = [
            (IsComplete "a") and (IsUnique "a") or (RowCount > 0),
            (Mean "x" > 3) and ((Mean "y" > 500) or (IsComplete "z")),
            (IsComplete "lonely")
        ]""",
        "composite.dqdl",
    )
    first, second, third = (entry.expression for entry in ruleset.rules)
    assert isinstance(first, CompositeRule) and first.operator == "or"
    assert first.text == '(IsComplete "a") and (IsUnique "a") or (RowCount > 0)'
    assert [part.text for part in first.rules] == ['(IsComplete "a") and (IsUnique "a")', "RowCount > 0"]
    assert first.rules[0].operator == "and"
    assert second.operator == "and"
    assert [part.text for part in second.rules] == ['Mean "x" > 3', '(Mean "y" > 500) or (IsComplete "z")']
    assert [leaf.text for leaf in second.leaves()] == ['Mean "x" > 3', 'Mean "y" > 500', 'IsComplete "z"']
    assert third == Rule("IsComplete", ("lonely",), None, None, None, 'IsComplete "lonely"')


def test_rule_text_is_normalised_and_keeps_strings():
    rule = only_rule('CustomSql   "select  count(*)\n from primary"\n   between 1 and 5 # trailing note\n')
    assert rule.text == 'CustomSql "select  count(*)\n from primary" between 1 and 5'
    assert rule.parameters == ("select  count(*)\n from primary",)


def test_empty_ruleset_and_names_that_start_like_keywords():
    assert parse_ruleset("Rules = [ ]", "empty.dqdl").rules == ()
    assert only_rule('IsComplete index').parameters == ("index",)
    assert only_rule('IsUnique andrew "nullable"').parameters == ("andrew", "nullable")


def test_actions_from_comment_annotations_default_to_stop():
    ruleset = parse_ruleset(
        """Rules = [
            # Keys first.
            IsPrimaryKey "order_id",
            # action: warn
            Mean "days_since_prior" between 5 and 20,
            #action:QUARANTINE
            ColumnValues "order_dow" in [0, 1, 2, 3, 4, 5, 6],
            # action: stop
            (IsComplete "a") and (RowCount > 0)
        ]""",
        "actions.dqdl",
    )
    assert [(entry.text, entry.action) for entry in ruleset.rules] == [
        ('IsPrimaryKey "order_id"', Action.STOP),
        ('Mean "days_since_prior" between 5 and 20', Action.WARN),
        ('ColumnValues "order_dow" in [0, 1, 2, 3, 4, 5, 6]', Action.QUARANTINE),
        ('(IsComplete "a") and (RowCount > 0)', Action.STOP),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'Rules = [\n  IsComplete "a",\n  # action: ignore\n  IsComplete "b"\n]',
            "a.dqdl:3:3: unknown action 'ignore' (use stop, warn or quarantine)",
        ),
        (
            'Rules = [\n  IsComplete "a"  # action: warn\n]',
            "a.dqdl:2:19: an action comment must be on its own line, before its rule",
        ),
        ('Rules = [\n  IsComplete "a"\n  # action: warn\n]', "a.dqdl:3:3: action comment is not followed by a rule"),
        (
            'Rules = [\n  # action: warn\n  # action: stop\n  IsComplete "a"\n]',
            "a.dqdl:3:3: two action comments for one rule",
        ),
        (
            'Rules = [\n  # action: quarantine\n  RowCount > 0\n]',
            "a.dqdl:3:3: action quarantine needs row-level rules (ColumnLength, ColumnValues, Completeness, "
            "IsComplete, IsPrimaryKey, IsUnique, Uniqueness) in rule: RowCount > 0",
        ),
    ],
)
def test_action_annotation_mistakes(text, message):
    with pytest.raises(DqdlError) as raised:
        parse_ruleset(text, "a.dqdl")
    assert str(raised.value) == message


def test_unsupported_rule_type_is_refused_quoting_the_rule():
    with pytest.raises(UnsupportedRuleError) as raised:
        parse_ruleset('Rules = [\n  IsComplete "a",\n  Entropy "a" > 1.5 where "b > 0"\n]', "orders.dqdl")
    assert str(raised.value).startswith(
        'orders.dqdl:3:3: unsupported rule type Entropy in rule: Entropy "a" > 1.5 where "b > 0" (supported: '
    )
    assert isinstance(raised.value, LakeError)
    assert (raised.value.path, raised.value.line, raised.value.column) == ("orders.dqdl", 3, 3)


def test_dynamic_rules_are_refused():
    with pytest.raises(InvalidRuleError) as raised:
        parse_ruleset("Rules = [ RowCount > avg(last(10)) - 1 ]", "d.dqdl")
    assert str(raised.value) == (
        "d.dqdl:1:11: dynamic rules (avg(last(10)) - 1) compare with earlier runs, which are not kept locally "
        "in rule: RowCount > avg(last(10)) - 1"
    )


def test_unsupported_rule_type_inside_a_composite_is_refused():
    with pytest.raises(UnsupportedRuleError, match=r"x.dqdl:1:33: unsupported rule type DataFreshness"):
        parse_ruleset('Rules = [ (IsComplete "a") and (DataFreshness "d" <= 24 hours) ]', "x.dqdl")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('Rules = [\n  RowCount > ]', "s.dqdl:2:14: syntax error: unexpected ']'; expected "),
        ('Rules = [ IsComplete "a" and IsComplete "b" ]', "s.dqdl:1:26: syntax error: unexpected 'and'; expected "),
        ('Rules = [ IsComplete "a", ', "s.dqdl:1:27: syntax error: unexpected end of text; expected "),
        ("Rules = [ RowCount > 3 ] ;", "s.dqdl:1:26: syntax error: unexpected character ';'"),
        ('Rules = [ IsComplete "a" ', "s.dqdl:1:26: syntax error: unexpected end of text; expected "),
        ("rules = []", "s.dqdl:1:1: syntax error: unexpected 'rules'; expected 'Rules'"),
    ],
)
def test_syntax_errors_give_line_and_column(text, message):
    with pytest.raises(DqdlSyntaxError) as raised:
        parse_ruleset(text, "s.dqdl")
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ('IsComplete "a" > 3', "IsComplete takes no condition"),
        ('Completeness "a"', "Completeness needs a condition such as `> 0`"),
        ("IsComplete", "IsComplete takes 1 parameter(s), not 0"),
        ('Mean "a" "b" > 1', "Mean takes 1 parameter(s), not 2"),
        ('Mean "a" in ["x"]', "Mean needs a numeric condition"),
        ('ColumnLength "a" matches "x+"', "ColumnLength needs a numeric condition"),
        ('ColumnValues "a" > NULL', "NULL can only be used with =, != or in"),
        ('IsComplete "a" with threshold > 0.5', "IsComplete does not support `with threshold`"),
        ('ColumnValues "a" in ["x"] with threshold in ["y"]', "a threshold needs a numeric condition"),
        ('ColumnExists "a" where "b > 1"', "ColumnExists does not support a where clause"),
        ('CustomSql "select 1" > 0 with threshold > 0.5', "CustomSql takes either a condition or `with threshold`"),
        ('ReferentialIntegrity "a" "ref" > 0.9', 'the reference must be written "alias.column"'),
        ('ReferentialIntegrity "a,b" "ref.{c}" > 0.9', "the primary and reference column lists must have the same"),
    ],
)
def test_invalid_rules_are_refused(rule, problem):
    with pytest.raises(InvalidRuleError) as raised:
        parse_ruleset(f"Rules = [\n    {rule}\n]", "i.dqdl")
    assert str(raised.value).startswith(f"i.dqdl:2:5: {problem}")
    assert str(raised.value).endswith(f"in rule: {rule}")


def test_load_ruleset_reads_a_file(tmp_path):
    path = tmp_path / "orders.dqdl"
    path.write_text('Rules = [\n    # action: warn\n    RowCount > 0\n]\n', encoding="utf-8")
    ruleset = load_ruleset(path)
    assert ruleset.name == str(path)
    assert [(entry.text, entry.action, entry.line) for entry in ruleset.rules] == [("RowCount > 0", Action.WARN, 3)]


def test_load_ruleset_names_a_missing_file(tmp_path):
    with pytest.raises(LakeError, match=r"nope\.dqdl: no such ruleset file"):
        load_ruleset(tmp_path / "nope.dqdl")


@pytest.mark.parametrize(
    ("value", "printed"),
    [(4.0, "4.0"), (0.75, "0.75"), (1 / 3, "0.3333333333333333"), (12345678.0, "1.2345678E7"), (0.0001, "1.0E-4"),
     (0.0, "0.0"), (-2.5, "-2.5"), (1e7, "1.0E7")],
)
def test_numbers_print_like_the_jvm(value, printed):
    assert jvm_double(value) == printed
