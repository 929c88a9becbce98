"""Job 1's pure transforms on small explicit lines: parsing, standardization, reasons,
duplicates, foreign keys and dispositions."""

from __future__ import annotations

import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from instacart_lake.dq import load_ruleset
from instacart_lake.jobs.quality_gate import RULESETS_DIR
from instacart_lake.schemas import SOURCE_TABLES
from instacart_lake.transforms.raw_to_clean import (
    assign_disposition,
    clean_rows,
    foreign_key_reasons,
    mark_duplicates,
    parse_integer,
    parse_lines,
    quarantine_rows,
    without_raw_lines_of_valid_rows,
)

ORDERS = SOURCE_TABLES["orders"]
PRODUCTS = SOURCE_TABLES["products"]
PRIOR = SOURCE_TABLES["order_products__prior"]


def lines(spark, *values, source="file:///raw/x.csv"):
    rows = [(source, number, value) for number, value in enumerate(values, start=2)]
    return spark.createDataFrame(rows, "source_file string, line_number long, value string")


def reasons_by_line(parsed):
    return {row.line_number: row.reasons for row in parsed.select("line_number", "reasons").collect()}


def test_real_formatting_quirks_parse_to_the_right_values(spark):
    parsed = parse_lines(lines(
        spark,
        '2539329,1,prior,1,2,08,',
        '"2398795","1","prior","2","3","07","15.0"',
        ' 473747 ,1,prior,3,3,12, 21 ',
        "2254736,1,prior,4,4,07,29.0",
    ), ORDERS)

    expected = spark.createDataFrame(
        [
            (2539329, 1, "prior", 1, 2, 8, None),
            (2398795, 1, "prior", 2, 3, 7, 15),
            (473747, 1, "prior", 3, 3, 12, 21),
            (2254736, 1, "prior", 4, 4, 7, 29),
        ],
        ORDERS.spark_schema(),
    )
    assertDataFrameEqual(clean_rows(parsed, ORDERS), expected)
    assert set(map(tuple, reasons_by_line(parsed).values())) == {()}


def test_names_with_commas_quotes_and_non_ascii_are_standardized(spark):
    parsed = parse_lines(lines(
        spark,
        '1,"Chocolate Sandwich Cookies, ""Family""  Size",61,19',
        '2,"  Cre\u0301me   Brûlée ",104,13',
        '3,All-Seasons Salt,104,13',
    ), PRODUCTS)

    names = [row.product_name for row in parsed.orderBy("product_id").collect()]
    assert names == ['Chocolate Sandwich Cookies, "Family" Size', "Cr\u00e9me Br\u00fbl\u00e9e", "All-Seasons Salt"]


def test_each_kind_of_bad_line_gets_its_reason(spark):
    parsed = parse_lines(lines(
        spark,
        "1,1,prior,2,2,08",                 # 2: a field short
        "2,1,prior,2,2,08,7,9",             # 3: a field too many
        "3,1,prior,2,2,8h,7",               # 4: unparsable
        "4,1,prior,2,9,08,7",               # 5: day of week out of range
        ",1,prior,2,2,08,7",                # 6: empty key
        "6,1,validation,2,2,08,7",          # 7: not an eval_set
        "7,1,prior,1,2,08,7.0",             # 8: days on a first order
        "8,1,prior,3,2,08,",                # 9: no days on a later order
        "9,1,prior,2,2,08,15.5",            # 10: not an integer
        "10,1,prior,2,2,08,31",             # 11: days above the cap
        "11,99999999999,prior,2,2,08,3",    # 12: beyond int
    ), ORDERS)

    assert reasons_by_line(parsed) == {
        2: ["wrong_column_count"],
        3: ["wrong_column_count"],
        4: ["unparsable_number:order_hour_of_day"],
        5: ["out_of_range:order_dow"],
        6: ["missing_value:order_id"],
        7: ["invalid_value:eval_set"],
        8: ["days_since_prior_on_first_order"],
        9: ["missing_value:days_since_prior_order"],
        10: ["unparsable_number:days_since_prior_order"],
        11: ["out_of_range:days_since_prior_order"],
        12: ["unparsable_number:user_id"],
    }


def test_broken_utf8_is_flagged_and_the_raw_bytes_are_kept(spark):
    broken = b"5,Caf\xe9 Noir,3,7"
    rows = spark.createDataFrame([("f", 2, bytearray(broken))], "source_file string, line_number long, value binary")
    parsed = parse_lines(rows.selectExpr("source_file", "line_number", "cast(value as string) as value"), PRODUCTS)

    row = quarantine_rows(parsed).collect()[0]
    assert row.reasons == ["invalid_utf8"]
    assert bytes(row.raw_bytes) == broken
    assert row.raw_line == "5,Caf\ufffd Noir,3,7"


def test_duplicates_exact_copies_are_dropped_and_taken_keys_quarantined(spark):
    parsed = parse_lines(lines(
        spark,
        "1,5,1,1",     # 2: kept
        "1,5,1,1",     # 3: exact copy: dropped
        "1,5,2,0",     # 4: same key, other values: quarantined
        "2,5,1,0",     # 5: kept
        "x,5,1,0",     # 6: bad: quarantined for its own reason, competes for no key
    ), PRIOR)

    result = assign_disposition(mark_duplicates(parsed, PRIOR))

    got = {r.line_number: (r.disposition, r.reasons, r.value) for r in result.collect()}
    assert got == {
        2: ("clean", [], None),
        3: ("dropped_duplicate", [], None),
        4: ("quarantined", ["duplicate_key"], "1,5,2,0"),
        5: ("clean", [], None),
        6: ("quarantined", ["unparsable_number:order_id"], "x,5,1,0"),
    }


def test_foreign_keys_and_the_eval_set_of_the_order_are_checked(spark):
    orders = spark.createDataFrame(
        [Row(order_id=1, eval_set="prior"), Row(order_id=2, eval_set="train")])
    products = spark.createDataFrame([Row(product_id=10), Row(product_id=11)])
    parsed = parse_lines(lines(
        spark,
        "1,10,1,0",    # 2: fine
        "3,10,1,0",    # 3: no such order
        "1,99,2,0",    # 4: no such product
        "2,11,1,0",    # 5: a train order in the prior file
        "1,x,3,0",     # 6: already bad: no foreign-key noise added
    ), PRIOR)

    rejected_products = spark.createDataFrame([Row(product_id=12), Row(product_id=None)], "product_id int")
    parsed = parsed.unionByName(parse_lines(lines(spark, "1,12,4,0", source="file:///raw/y.csv"), PRIOR))

    checked = foreign_key_reasons(parsed, PRIOR, {"orders": orders, "products": products},
                                  {"products": rejected_products})

    assert {(r.source_file, r.line_number): r.reasons for r in checked.collect()} == {
        ("file:///raw/x.csv", 2): [],
        ("file:///raw/x.csv", 3): ["unknown_order_id"],
        ("file:///raw/x.csv", 4): ["unknown_product_id"],
        ("file:///raw/x.csv", 5): ["order_eval_set_mismatch"],
        ("file:///raw/x.csv", 6): ["unparsable_number:product_id"],
        ("file:///raw/y.csv", 2): ["referenced_row_quarantined:product_id"],  # its product was rejected
    }


@pytest.mark.parametrize("value", ["+7", "007", "7.000"])
def test_integer_forms_that_are_accepted(spark, value):
    parsed = parse_lines(lines(spark, f"1,1,prior,2,2,{value},3"), ORDERS)
    assert parsed.collect()[0].order_hour_of_day == 7


def test_a_newer_landing_of_a_file_supersedes_the_older_one(spark):
    old, new = "file:///raw/o.csv", "file:///raw/o.v2.csv"
    rows = lines(spark, "1,5,1,1", "2,5,2,0", source=old).unionByName(
        lines(spark, "1,5,3,1", "2,5,2,0", source=new))
    parsed = parse_lines(rows, PRIOR)

    result = assign_disposition(mark_duplicates(parsed, PRIOR, {old: 1, new: 2}))

    got = sorted((r.source_file, r.line_number, r.disposition, r.reasons) for r in result.collect())
    assert got == [
        (old, 2, "quarantined", ["superseded_by_newer_landing"]),
        (old, 3, "dropped_duplicate", []),
        (new, 2, "clean", []),
        (new, 3, "clean", []),
    ]


def test_fields_padded_with_tabs_and_other_ascii_whitespace_parse(spark):
    parsed = parse_lines(lines(spark, "\t2539329\t,1,prior,1,2,\t08 ,", "2,\x0b1\f,prior,2,3,07,\t15.0\r"), ORDERS)

    assert [tuple(r) for r in clean_rows(parsed, ORDERS).orderBy("order_id").collect()] == [
        (2, 1, "prior", 2, 3, 7, 15), (2539329, 1, "prior", 1, 2, 8, None)]
    assert set(map(tuple, reasons_by_line(parsed).values())) == {()}


@pytest.mark.parametrize("space", [" ", "\t", "\r", "\f", "\v"])
def test_a_record_padded_by_one_kind_of_whitespace_alone_is_trimmed(spark, space):
    parsed = parse_lines(lines(spark, f"7,1,prior,2,3,{space}08,15"), ORDERS)

    assert [tuple(r) for r in clean_rows(parsed, ORDERS).collect()] == [(7, 1, "prior", 2, 3, 8, 15)]
    assert list(reasons_by_line(parsed).values()) == [[]]


def test_the_raw_line_is_kept_only_on_rows_with_reasons(spark):
    rows = spark.createDataFrame([(2, "1,2,3,0", []), (3, "1,x,3,0", ["unparsable_number:product_id"])],
                                 "line_number long, value string, reasons array<string>")

    assertDataFrameEqual(without_raw_lines_of_valid_rows(rows), spark.createDataFrame(
        [(2, None, []), (3, "1,x,3,0", ["unparsable_number:product_id"])],
        "line_number long, value string, reasons array<string>"))


def test_a_record_with_a_quoted_line_end_is_one_row_and_its_bytes_are_kept(spark):
    record = '7,"Two\r\nLines, ""quoted""",104,13'
    parsed = parse_lines(lines(spark, record, 'x,"Bad\nid",104,13', "9,Chocolate\rChip,61,19"), PRODUCTS)

    rows = {r.line_number: (r.product_name, r.reasons) for r in parsed.collect()}
    assert rows == {2: ('Two Lines, "quoted"', []), 3: ("Bad id", ["unparsable_number:product_id"]),
                    4: ("Chocolate Chip", [])}  # a lone CR is whitespace inside a name
    quarantined = quarantine_rows(parsed.where("line_number = 3")).collect()[0]
    assert bytes(quarantined.raw_bytes) == b'x,"Bad\nid",104,13'


def test_an_unterminated_quote_is_its_own_reason_and_the_next_line_is_clean(spark):
    parsed = parse_lines(lines(spark, '5,"Soup', "6,soup crackers", '7,"Soup, crackers,8', '8,x,"Soup'),
                         SOURCE_TABLES["aisles"])

    assert reasons_by_line(parsed) == {
        2: ["unterminated_quote"],
        3: [],
        4: ["unterminated_quote"],  # the open quote runs to the end: its commas separate nothing
        5: ["unterminated_quote", "wrong_column_count"],
    }


def test_a_name_longer_than_its_declared_length_is_quarantined_on_its_line(spark):
    longest = PRODUCTS.column("product_name").max_length
    parsed = parse_lines(lines(spark, f"1,{'a' * longest},61,19", f"2,{'b' * (longest + 1)},61,19",
                               f"3,{'c  ' * longest},61,19"), PRODUCTS)

    assert reasons_by_line(parsed) == {2: [], 3: ["too_long:product_name"], 4: ["too_long:product_name"]}


def test_the_clean_rulesets_column_lengths_are_the_declared_max_lengths():
    declared = {(table.name, column.name): column.max_length for table in SOURCE_TABLES.values()
                for column in table.columns if column.max_length is not None}
    in_rulesets = {}
    for table in SOURCE_TABLES:
        for rule in load_ruleset(RULESETS_DIR / "clean" / f"{table}.dqdl").rules:
            for leaf in rule.leaves():
                if leaf.rule_type == "ColumnLength":
                    condition = leaf.condition
                    assert (condition.operator, condition.negated, condition.numbers[0]) == ("between", False, 0)
                    in_rulesets[(table, leaf.column)] = int(condition.numbers[1]) - 1  # between is exclusive

    assert in_rulesets == declared == {("aisles", "aisle"): 200, ("departments", "department"): 200,
                                       ("products", "product_name"): 500}


INTEGER_FORMS = {
    "0": 0, "9": 9, "09": 9, "0000000001": 1, "00000000001": None, "3.0": 3, "3.00": 3, "0.0": 0,
    "3.": None, ".0": None, "3.5": None, "1.0.0": None, "1..0": None, "-0": 0, "-5": -5, "+5": 5,
    "+05.0": 5, "-3.0": -3, "++1": None, "1-": None, "2147483647": 2147483647, "2147483648": None,
    "-2147483648": -2147483648, "-2147483649": None, "12345678901": None, "1e3": None, "x": None,
    "1 2": None, "\u0663": None,
}


def test_integer_forms_of_the_contract(spark):
    """Zero padding and a zero fraction are integers; anything else, or beyond 32 bits, is not
    (canonical fields, unsigned digits and signed ones take different paths)."""
    frame = spark.createDataFrame([(text,) for text in INTEGER_FORMS], "text string")
    rows = frame.select("text", parse_integer(F.col("text")).alias("value")).collect()
    parsed = {row.text: row.value for row in rows}
    assert parsed == INTEGER_FORMS
