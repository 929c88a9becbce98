"""The access policy: `lake governance check` refuses a bad policy at its file and line; the
compiled governance stack holds exactly the policy's grants, in Lake Formation's order; `lake
governance apply`'s requests against moto's Lake Formation."""

from __future__ import annotations

import tomllib
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from instacart_lake.cli import main as lake_main
from instacart_lake.deploy.templates.catalog import aws_locations
from instacart_lake.deploy.templates.rendering import TEMPLATES_DIR, load_template
from instacart_lake.governance import POLICY_PATH
from instacart_lake.governance.apply import Deployment, apply_policy
from instacart_lake.governance.loading import load_policy
from instacart_lake.governance.matrix import access_matrix
from instacart_lake.governance.tables import lake_tables

SMALL_POLICY = """\
[tags]
zone = ["clean", "curated"]
sensitivity = ["public", "personal"]

[databases]
instacart_clean = { zone = "clean", sensitivity = "personal" }
instacart_curated = { zone = "curated", sensitivity = "personal" }

[tables]
"instacart_clean.products" = { sensitivity = "public" }

[columns]
"instacart_clean.orders.user_id" = { sensitivity = "personal" }

[personas.analyst]
kind = "person"

[personas.raw_to_clean]
kind = "job"
role = "RawToCleanRole"
data_locations = ["clean"]

[[grants]]
name = "analysts_read_public"
personas = ["analyst"]
expression = { zone = ["clean", "curated"], sensitivity = ["public"] }
table_permissions = ["SELECT", "DESCRIBE"]

[[grants]]
name = "job_writes_clean"
personas = ["raw_to_clean"]
expression = { zone = ["clean"] }
database_permissions = ["CREATE_TABLE", "DESCRIBE"]
table_permissions = ["SELECT", "INSERT"]
"""


def check(tmp_path: Path, text: str, capsys) -> tuple[int, list[str]]:
    policy = tmp_path / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    code = lake_main(["--lake-root", str(tmp_path / "lake"), "governance", "check", "--policy", str(policy)])
    return code, capsys.readouterr().err.splitlines()


def test_the_repositorys_policy_and_the_small_one_pass_the_check(tmp_path, capsys):
    assert lake_main(["--lake-root", str(tmp_path / "lake"), "governance", "check"]) == 0
    assert "no problem" in capsys.readouterr().out
    assert check(tmp_path, SMALL_POLICY, capsys) == (0, [])


@pytest.mark.parametrize("old, new, line, message", [
    ('"instacart_clean.products" = {', '"instacart_clean.prodcts" = {', 10,
     "unknown table instacart_clean.prodcts (instacart_clean has instacart_clean.aisles"),
    ('"instacart_clean.orders.user_id"', '"instacart_clean.orders.user"', 13,
     "unknown column user of instacart_clean.orders"),
    ('sensitivity = "public" }', 'secrecy = "public" }', 10, "unknown tag secrecy (tags: zone, sensitivity)"),
    ('{ sensitivity = "public" }', '{ sensitivity = "open" }', 10, "tag sensitivity has no value 'open'"),
    ('personas = ["analyst"]', 'personas = ["analist"]', 25,
     "unknown persona analist (personas: analyst, raw_to_clean)"),
    ('expression = { zone = ["clean"] }', "expression = {}", 32, "grant job_writes_clean names no tag value"),
    ('expression = { zone = ["clean"] }', "expression = { zone = [] }", 32,
     "grant job_writes_clean names no value of tag zone"),
    ('sensitivity = ["public"] }', 'sensitivity = ["secret"] }', 26,
     "grant analysts_read_public: tag sensitivity has no value 'secret'"),
    ('data_locations = ["clean"]', 'data_locations = ["lake"]', 21,
     "persona raw_to_clean: data location 'lake' is not a zone"),
    ('table_permissions = ["SELECT", "INSERT"]', 'table_permissions = ["SELECT", "CREATE_TABLE"]', 34,
     "grant job_writes_clean: CREATE_TABLE is not one of the table_permissions"),
])
def test_check_refuses_a_bad_policy_at_its_line(tmp_path, capsys, old, new, line, message):
    assert old in SMALL_POLICY
    code, errors = check(tmp_path, SMALL_POLICY.replace(old, new, 1), capsys)
    assert code == 1
    policy = tmp_path / "policy.toml"
    assert errors[0].startswith(f"{policy}:{line}: {message}"), errors
    assert errors[-1] == f"lake governance: error: {policy}: 1 problem"


@pytest.mark.parametrize("addition, line, message", [
    ('\n[[filters]]\nname = "f"\ntable = "instacart_clean.orders"\npersonas = ["raw_to_clean"]\n'
     'rows = "eval_set = \'prior\'"\n', 39, "filter f: raw_to_clean reads instacart_clean.orders through grant "
                                             "job_writes_clean as well"),
    ('\n[[filters]]\nname = "f"\ntable = "instacart_clean.orders"\npersonas = ["analyst"]\n'
     'rows = "eval_sets = \'prior\'"\n', 40, "filter f: rows names unknown column eval_sets"),
    ('\n[[filters]]\nname = "f"\ntable = "instacart_clean.order"\npersonas = ["analyst"]\n', 38,
     "unknown table instacart_clean.order"),
    ('\n[personas.crawler]\nkind = "robot"\n', 37, "persona crawler: kind is one of person, job, crawler, service"),
    ("\n[[grants]\n", 36, "not TOML"),
])
def test_check_refuses_bad_filters_personas_and_toml_at_their_line(tmp_path, capsys, addition, line, message):
    code, errors = check(tmp_path, SMALL_POLICY + addition, capsys)
    assert code == 1
    located = [error.removeprefix("lake governance: error: ") for error in errors]
    prefix = f"{tmp_path / 'policy.toml'}:{line}: "
    assert any(error.startswith(prefix) and message in error for error in located), errors


def test_the_matrix_gives_the_small_policys_access(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(SMALL_POLICY, encoding="utf-8")
    matrix = access_matrix(load_policy(aws_locations(), path), lake_tables(aws_locations()))
    rows = {str(row.table): [cell.code for cell in row.cells] for row in matrix}
    assert rows["instacart_clean.products"] == ["r", "rw"]
    assert rows["instacart_clean.orders"] == ["-", "rw"]
    assert rows["instacart_curated.up_features"] == ["-", "-"]
    assert rows["instacart_raw.orders"] == ["-", "-"]


def _principal(resource: dict, document: dict) -> str:
    identifier = resource["Properties"]["Principal"]["DataLakePrincipalIdentifier"]
    if "Fn::GetAtt" in identifier:
        return identifier["Fn::GetAtt"][0]
    return identifier["Fn::Sub"].rsplit("${", 1)[1].rstrip("}")


def test_the_governance_stack_holds_exactly_the_policys_grants():
    document = tomllib.loads(POLICY_PATH.read_text(encoding="utf-8"))
    personas = document["personas"]
    role = {name: persona.get("role") or "".join(part.capitalize() for part in name.split("_")) + "Role"
            for name, persona in personas.items()}
    expected = set()
    for grant in document["grants"]:
        expression = frozenset((key, tuple(values)) for key, values in grant["expression"].items())
        for persona in grant["personas"]:
            for kind in ("table", "database"):
                if grant.get(f"{kind}_permissions"):
                    expected.add((role[persona], kind.upper(), expression, tuple(grant[f"{kind}_permissions"])))
    for name, persona in personas.items():
        for location in persona.get("data_locations", []):
            expected.add((role[name], "DATA_LOCATION", location, ("DATA_LOCATION_ACCESS",)))
    for cells in document["filters"]:
        for persona in cells["personas"]:
            expected.add((role[persona], "DATA_CELLS_FILTER", cells["name"], ("SELECT",)))

    template = load_template(TEMPLATES_DIR / "governance.yaml")
    resources = template["Resources"]
    found = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::LakeFormation::PrincipalPermissions":
            continue
        target = resource["Properties"]["Resource"]
        permissions = tuple(resource["Properties"]["Permissions"])
        if "LFTagPolicy" in target:
            items = target["LFTagPolicy"]["Expression"]
            expression = frozenset((item["TagKey"], tuple(item["TagValues"])) for item in items)
            found.add((_principal(resource, template), target["LFTagPolicy"]["ResourceType"], expression, permissions))
        elif "DataLocation" in target:
            arn = target["DataLocation"]["ResourceArn"]["Fn::Sub"]
            zone = arn.split("${", 2)[2].split("Bucket}")[0].lower()
            found.add((_principal(resource, template), "DATA_LOCATION", zone, permissions))
        else:
            found.add((_principal(resource, template), "DATA_CELLS_FILTER", target["DataCellsFilter"]["Name"],
                       permissions))
        assert "DataLakeSettings" in resource["DependsOn"]
        assert any(name.endswith("Location") and resources[name]["Type"] == "AWS::LakeFormation::Resource"
                   for name in resource["DependsOn"])
    assert found == expected

    settings = resources["DataLakeSettings"]["Properties"]
    assert settings["CreateDatabaseDefaultPermissions"] == [] and settings["CreateTableDefaultPermissions"] == []
    registered = [resource for resource in resources.values() if resource["Type"] == "AWS::LakeFormation::Resource"]
    assert len(registered) == 4
    assert all(item["DependsOn"] == ["DataLakeSettings"] and item["Properties"]["RoleArn"] ==
               {"Fn::GetAtt": ["LakeFormationDataAccessRole", "Arn"]} for item in registered)
    [orders_filter] = [item for item in resources.values() if item["Type"] == "AWS::LakeFormation::DataCellsFilter"]
    assert orders_filter["Properties"]["RowFilter"] == {"FilterExpression": "eval_set = 'prior'"}
    assert orders_filter["Condition"] == "TablesRegistered"


ACCOUNT = "123456789012"


@pytest.fixture
def lakeformation(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LAKE_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("lakeformation", region_name="eu-west-1")


def test_apply_makes_the_settings_registrations_tags_and_grants(tmp_path, lakeformation):
    """moto 5.2.5 has no CreateDataCellsFilter, so this policy has no filter."""
    path = tmp_path / "policy.toml"
    path.write_text(SMALL_POLICY, encoding="utf-8")
    policy = load_policy(aws_locations(), path)
    analyst = f"arn:aws:iam::{ACCOUNT}:role/dev-instacart-analyst"
    job = f"arn:aws:iam::{ACCOUNT}:role/dev-instacart-job-raw-to-clean"
    deployment = Deployment(
        catalog_id=ACCOUNT, role_arns={"analyst": analyst, "raw_to_clean": job},
        bucket_arns={zone: f"arn:aws:s3:::dev-instacart-{zone}-{ACCOUNT}"
                     for zone in ("raw", "clean", "curated", "ml")},
        data_access_role_arn=f"arn:aws:iam::{ACCOUNT}:role/dev-instacart-lakeformation", admin_arns=(analyst,))
    lines: list[str] = []

    assert apply_policy(lakeformation, policy, deployment, lines.append) == 4
    assert apply_policy(lakeformation, policy, deployment, lines.append) == 4

    settings = lakeformation.get_data_lake_settings(CatalogId=ACCOUNT)["DataLakeSettings"]
    assert settings["DataLakeAdmins"] == [{"DataLakePrincipalIdentifier": analyst}]
    assert settings["CreateDatabaseDefaultPermissions"] == [] and settings["CreateTableDefaultPermissions"] == []
    assert sorted(item["ResourceArn"] for item in lakeformation.list_resources()["ResourceInfoList"]) == sorted(
        deployment.bucket_arns.values())
    assert {tag["TagKey"]: tag["TagValues"] for tag in lakeformation.list_lf_tags(CatalogId=ACCOUNT)["LFTags"]} == {
        "zone": ["clean", "curated"], "sensitivity": ["public", "personal"]}
    tags = lakeformation.get_resource_lf_tags(CatalogId=ACCOUNT, Resource={
        "Table": {"CatalogId": ACCOUNT, "DatabaseName": "instacart_clean", "Name": "products"}})
    assert [(tag["TagKey"], tag["TagValues"]) for tag in tags["LFTagsOnTable"]] == [("sensitivity", ["public"])]

    permissions = lakeformation.list_permissions(CatalogId=ACCOUNT)["PrincipalResourcePermissions"]
    granted = {(item["Principal"]["DataLakePrincipalIdentifier"], str(item["Resource"]),
                tuple(sorted(item["Permissions"]))) for item in permissions}
    tag_policy = "{'LFTagPolicy': {'CatalogId': '%s', 'ResourceType': '%s', 'Expression': %s}}"
    assert granted == {
        (analyst, tag_policy % (ACCOUNT, "TABLE", "[{'TagKey': 'zone', 'TagValues': ['clean', 'curated']}, "
                                                  "{'TagKey': 'sensitivity', 'TagValues': ['public']}]"),
         ("DESCRIBE", "SELECT")),
        (job, tag_policy % (ACCOUNT, "TABLE", "[{'TagKey': 'zone', 'TagValues': ['clean']}]"), ("INSERT", "SELECT")),
        (job, tag_policy % (ACCOUNT, "DATABASE", "[{'TagKey': 'zone', 'TagValues': ['clean']}]"),
         ("CREATE_TABLE", "DESCRIBE")),
        (job, str({"DataLocation": {"CatalogId": ACCOUNT, "ResourceArn": deployment.bucket_arns["clean"]}}),
         ("DATA_LOCATION_ACCESS",)),
    }
    assert lines[-1] == "4 grants made"
