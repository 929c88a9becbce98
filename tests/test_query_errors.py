"""What `lake query` says when a query cannot run: a syntax error at its file, line and column,
a table the catalog does not have (with the tables it has), a parameter missing, unknown or of
the wrong type, a header that declares a parameter badly; and the named queries' headers."""

from __future__ import annotations

import pytest
from sqlglot import exp

from instacart_lake.catalog import delta_table_input
from instacart_lake.cli import main as lake_main
from instacart_lake.query import (
    ParameterError,
    QueryError,
    QuerySyntaxError,
    UnknownTableError,
    bind,
    find_query,
    named_queries,
    parse_query,
    run_query,
)

ORDERS_COLUMNS = [("order_id", "int"), ("user_id", "int")]


@pytest.fixture
def catalog_lake(lake):
    """A catalog with two tables (no data is read before the checks fail)."""
    catalog = lake.catalog
    for zone, name in (("clean", "orders"), ("curated", "next_basket")):
        database = lake.locations.database(zone)
        catalog.ensure_database(database, "", lake.locations.zone_uri(zone))
        catalog.create_table(database, delta_table_input(name, lake.locations.table_uri(zone, name), ORDERS_COLUMNS))
    return lake


def write_query(tmp_path, text: str):
    path = tmp_path / "broken.sql"
    path.write_text(text)
    return path


def test_a_syntax_error_names_the_file_line_and_column(tmp_path):
    path = write_query(tmp_path, "-- Orders.\nSELECT order_id\nFROM instacart_clean.orders\nWHERE\n")

    with pytest.raises(QuerySyntaxError) as raised:
        bind(find_query(str(path)), {})

    assert str(raised.value).startswith(f"{path}:4:1: syntax error: ")


def test_a_syntax_error_points_at_the_token_where_it_starts(tmp_path):
    path = write_query(tmp_path, "SELEC order_id FROM instacart_clean.orders")

    with pytest.raises(QuerySyntaxError, match=r"broken\.sql:1:16: syntax error: Invalid expression"):
        bind(find_query(str(path)), {})


def test_an_unknown_table_lists_the_tables_of_the_catalog(catalog_lake):
    query = parse_query("inline", "--sql", "SELECT * FROM instacart_clean.order_lines")

    with pytest.raises(UnknownTableError) as raised:
        run_query(catalog_lake, query, {})

    assert str(raised.value) == ("--sql: no table instacart_clean.order_lines in the catalog "
                                 "(tables: instacart_clean.orders, instacart_curated.next_basket)")


def test_a_table_of_a_database_the_catalog_lacks_is_unknown_too(catalog_lake):
    query = parse_query("inline", "--sql", "SELECT * FROM instacart_gold.next_basket")

    with pytest.raises(UnknownTableError, match=r"no table instacart_gold\.next_basket in the catalog"):
        run_query(catalog_lake, query, {})


def test_a_table_without_its_database_is_refused():
    query = parse_query("inline", "--sql", "WITH o AS (SELECT 1 AS x) SELECT * FROM o JOIN orders ON true")

    with pytest.raises(UnknownTableError, match=r"table orders needs its database"):
        bind(query, {}).tables


def test_a_missing_parameter_is_named_with_its_type_and_meaning():
    with pytest.raises(ParameterError) as raised:
        bind(find_query("user_next_basket"), {})

    assert str(raised.value).endswith("user_next_basket.sql: missing parameter user_id (integer: the user); "
                                      "give it with --param user_id=VALUE")


def test_a_parameter_of_the_wrong_type_or_unknown_is_refused():
    with pytest.raises(ParameterError, match=r"parameter user_id is integer, 'alice' is not one"):
        bind(find_query("user_next_basket"), {"user_id": "alice"})
    with pytest.raises(ParameterError, match=r"no parameter top_n \(parameters: user_id\)"):
        bind(find_query("user_next_basket"), {"user_id": "1", "top_n": "3"})


def test_parameters_become_typed_literals_not_text():
    query = parse_query("inline", "--sql", "\n".join([
        "-- Typed parameters.",
        "-- :name varchar  a name",
        "-- :day date  a day",
        "-- :ratio double = 0.5  a ratio",
        "-- :flag boolean  a flag",
        "SELECT * FROM instacart_clean.orders WHERE name = :name AND day = :day AND r > :ratio AND f = :flag",
    ]))

    statement = bind(query, {"name": "O'Hara", "day": "2026-12-01", "flag": "TRUE"})

    assert statement.expression.sql("trino", comments=False) == (
        "SELECT * FROM instacart_clean.orders "
        "WHERE name = 'O''Hara' AND day = CAST('2026-12-01' AS DATE) AND r > 0.5 AND f = TRUE")


def test_a_parameter_used_but_not_declared_is_an_error():
    query = parse_query("inline", "--sql", "SELECT * FROM instacart_clean.orders WHERE user_id = :user_id")

    with pytest.raises(QueryError, match=r"parameter user_id is used but not declared in the header"):
        bind(query, {"user_id": "1"})


def test_a_badly_declared_parameter_is_an_error_at_its_line():
    with pytest.raises(QueryError, match=r"^--sql:2: a parameter is declared as"):
        parse_query("inline", "--sql", "-- Orders.\n-- :user_id number  the user\nSELECT 1")


def test_an_unknown_query_name_lists_the_named_queries():
    with pytest.raises(QueryError, match=r"no query named 'top_products' in .*athena \(queries: dq_failed_rules, "):
        find_query("top_products")


def test_a_file_of_two_statements_is_refused(tmp_path):
    path = write_query(tmp_path, "SELECT 1;\nSELECT 2;\n")

    with pytest.raises(QueryError, match=r"a query file holds one statement, this one has 2"):
        bind(find_query(str(path)), {})


def test_the_cli_prints_one_line_and_exits_1(catalog_lake, tmp_path, capsys):
    root = str(tmp_path / "lake")

    assert lake_main(["--lake-root", root, "query", "--sql", "SELECT * FROM instacart_ml.nothing"]) == 1
    assert capsys.readouterr().err == (
        "lake query: error: --sql: no table instacart_ml.nothing in the catalog "
        "(tables: instacart_clean.orders, instacart_curated.next_basket)\n")

    assert lake_main(["--lake-root", root, "query", "user_next_basket", "--param", "user_id"]) == 1
    assert capsys.readouterr().err == "lake query: error: --param 'user_id': expected NAME=VALUE\n"


def test_a_csv_table_of_the_raw_zone_is_not_read_locally(lake):
    catalog = lake.catalog
    catalog.ensure_database("instacart_raw", "", lake.locations.zone_uri("raw"))
    table_input = delta_table_input("orders", lake.locations.table_uri("raw", "orders"), ORDERS_COLUMNS)
    table_input["Parameters"] = {"classification": "csv"}
    catalog.create_table("instacart_raw", table_input)

    with pytest.raises(QueryError, match=r"instacart_raw\.orders is a csv table at .*; locally lake query reads "
                                         r"the Delta tables"):
        run_query(lake, parse_query("inline", "--sql", "SELECT * FROM instacart_raw.orders"), {})


def test_every_named_query_binds_its_parameters_and_reads_catalog_tables():
    for query in named_queries():
        values = {parameter.name: "1" for parameter in query.parameters}
        statement = bind(query, values)
        assert statement.tables, query.name
        assert all(str(name).startswith("instacart_") for name in statement.tables), query.name
        assert not list(statement.expression.find_all(exp.Placeholder)), query.name
