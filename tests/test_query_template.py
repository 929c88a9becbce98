"""The Athena stack generated from athena/: the analysts' workgroup with its enforced, encrypted
result location, and one named query per file that restates the file with `?` parameters."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from instacart_lake.config import ZONES, load_config
from instacart_lake.deploy.templates.rendering import TEMPLATES_DIR, render
from instacart_lake.query import named_queries
from instacart_lake.query.template import SOURCES, WORKGROUP, WORKGROUP_NAME, positional_sql, template


def test_the_workgroup_enforces_results_in_the_artifacts_bucket_encrypted_with_the_data_key():
    workgroup = template()["Resources"][WORKGROUP]["Properties"]
    configuration = workgroup["WorkGroupConfiguration"]

    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    assert configuration["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": "s3://${ArtifactsBucket}/athena-results/"}
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"] == {
        "EncryptionOption": "SSE_KMS",
        "KmsKey": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${DataKey}"}}
    assert workgroup["Name"] == {"Fn::Sub": WORKGROUP_NAME}


def test_lake_toml_names_the_workgroup_of_the_stage_dev():
    assert load_config(profile="aws", environ={}).athena_workgroup == WORKGROUP_NAME.replace("${Stage}", "dev")


def test_every_file_is_a_named_query_with_positional_parameters():
    resources = template()["Resources"]
    named = {resource["Properties"]["Name"]: resource["Properties"]
             for resource in resources.values() if resource["Type"] == "AWS::Athena::NamedQuery"}
    databases = {f"instacart_{zone}" for zone in ZONES}

    assert sorted(named) == sorted(query.name for query in named_queries())
    for query in named_queries():
        properties = named[query.name]
        statement = sqlglot.parse_one(properties["QueryString"], read="trino")
        placeholders = list(statement.find_all(exp.Placeholder))
        assert len(placeholders) == len(query.parameters)
        assert all(placeholder.this is None for placeholder in placeholders)
        assert properties["Database"] in databases
        assert properties["WorkGroup"] == {"Ref": WORKGROUP}
        assert properties["Description"].startswith(query.title)


def test_a_parameter_in_a_comment_or_string_stays_as_it_is():
    [query] = [query for query in named_queries() if query.name == "top_reordered_products_by_department"]

    sql = positional_sql(query)

    assert "-- :top_n integer = 10  products per department" in sql
    assert "WHERE ranked.reorder_rank <= ?\n" in sql
    assert sql.replace("<= ?\n", "<= :top_n\n") == query.sql.rstrip("\n")


def test_the_committed_template_is_the_generated_one():
    assert (TEMPLATES_DIR / "athena.yaml").read_text(encoding="utf-8") == render(template(), SOURCES)
