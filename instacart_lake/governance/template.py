"""The governance stack (cloudformation/governance.yaml), compiled from the access policy:
Lake Formation's settings (the administrators, no IAMAllowedPrincipals defaults), each zone
bucket registered with a role of its own, the LF-tags and their assignments, a grant per
persona of each LF-tag policy grant, DATA_LOCATION_ACCESS of the jobs and the crawler on the
zones they write, the data cells filters, and the roles people assume.

Resources are made in the order Lake Formation needs: the settings, then the registrations and
tags, then the tag assignments and filters, then the grants (DependsOn says so where no Ref does).
Tables exist only once the jobs have registered them, so the tags of tables and columns, the
data cells filters and their grants are made when TablesRegistered is true: deploy once, run
the pipeline, deploy again with TablesRegistered=true. Until then a table has its database's
tags, which are the policy's most restrictive."""

from __future__ import annotations

from typing import Any

from instacart_lake.catalog.names import TableName
from instacart_lake.config import ZONES
from instacart_lake.deploy.templates.catalog import aws_locations
from instacart_lake.deploy.templates.intrinsics import (
    STAGE_PARAMETER,
    allow,
    bucket_arn,
    camel,
    checkov_skips,
    get_att,
    key_arn,
    policy,
    ref,
    resource_parameters,
    string_parameter,
    sub,
)
from instacart_lake.deploy.templates.storage import bucket_logical_id
from instacart_lake.governance.loading import load_policy
from instacart_lake.governance.policy import PERSON, POLICY_PATH, Grant, Persona, Policy
from instacart_lake.query.template import RESULTS_PREFIX, WORKGROUP_NAME

SOURCES = "lakeformation/policy.toml and instacart_lake/governance/template.py"
SETTINGS = "DataLakeSettings"
DATA_ACCESS_ROLE = "LakeFormationDataAccessRole"
TABLES_REGISTERED = "TablesRegistered"
HAS_ADMIN = "HasLakeFormationAdmin"
CATALOG = ref("AWS::AccountId")
ARN = "arn:${AWS::Partition}"
REGIONAL = "${AWS::Region}:${AWS::AccountId}"


def persona_role_id(persona: Persona) -> str:
    """The logical id of the persona's role: an earlier stack's, or DataEngineerRole ... here."""
    return persona.role or f"{camel(persona.name)}Role"


def principal(persona: Persona) -> dict[str, Any]:
    if persona.kind == PERSON:
        return {"DataLakePrincipalIdentifier": get_att(persona_role_id(persona), "Arn")}
    return {"DataLakePrincipalIdentifier": sub(f"{ARN}:iam::${{AWS::AccountId}}:role/${{{persona.role}}}")}


def location_arn(location: str) -> dict[str, str]:
    """A data location, `zone` or `zone/prefix`, as the ARN of its bucket (and prefix)."""
    zone, _, prefix = location.partition("/")
    return bucket_arn(bucket_logical_id(zone), f"/{prefix}" if prefix else "")


def _lf_tags(tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"CatalogId": CATALOG, "TagKey": key, "TagValues": [value]} for key, value in tags.items()]


def _tag_association(resource: dict[str, Any], tags: dict[str, str], policy: Policy,
                     condition: str | None) -> dict[str, Any]:
    association: dict[str, Any] = {
        "Type": "AWS::LakeFormation::TagAssociation",
        "DependsOn": [f"Tag{camel(key)}" for key in policy.tags],
        "Properties": {"Resource": resource, "LFTags": _lf_tags(tags)},
    }
    if condition:
        association["Condition"] = condition
    return association


def _table_resource(table: TableName) -> dict[str, Any]:
    return {"Table": {"CatalogId": CATALOG, "DatabaseName": table.database, "Name": table.table}}


def _assignments(policy: Policy) -> dict[str, Any]:
    resources = {}
    for database, tags in policy.databases.items():
        resources[f"{camel(database)}Tags"] = _tag_association(
            {"Database": {"CatalogId": CATALOG, "Name": database}}, tags, policy, None)
    for table, tags in policy.tables.items():
        resources[f"{camel(table.database)}{camel(table.table)}Tags"] = _tag_association(
            _table_resource(table), tags, policy, TABLES_REGISTERED)
    for (table, column), tags in policy.columns.items():
        resource = {"TableWithColumns": {"CatalogId": CATALOG, "DatabaseName": table.database, "Name": table.table,
                                         "ColumnNames": [column]}}
        resources[f"{camel(table.database)}{camel(table.table)}{camel(column)}Tags"] = _tag_association(
            resource, tags, policy, TABLES_REGISTERED)
    return resources


def _grant(persona: Persona, resource: dict[str, Any], permissions: tuple[str, ...] | list[str],
           depends_on: list[str]) -> dict[str, Any]:
    return {
        "Type": "AWS::LakeFormation::PrincipalPermissions",
        "DependsOn": depends_on,
        "Properties": {"Catalog": CATALOG, "Principal": principal(persona), "Resource": resource,
                       "Permissions": list(permissions), "PermissionsWithGrantOption": []},
    }


def lf_tag_policy(grant: Grant, resource_type: str) -> dict[str, Any]:
    return {"LFTagPolicy": {"CatalogId": CATALOG, "ResourceType": resource_type,
                            "Expression": [{"TagKey": key, "TagValues": list(values)}
                                           for key, values in grant.expression.items()]}}


def _grants(policy: Policy) -> dict[str, Any]:
    prerequisites = [SETTINGS, *(f"{camel(zone)}Location" for zone in ZONES),
                     *(f"Tag{camel(key)}" for key in policy.tags),
                     *(f"{camel(database)}Tags" for database in policy.databases)]
    resources: dict[str, Any] = {}
    for grant in policy.grants:
        for name in grant.personas:
            persona = policy.personas[name]
            for kind, permissions in (("Tables", grant.table_permissions), ("Databases", grant.database_permissions)):
                if permissions:
                    resources[f"{camel(grant.name)}{camel(name)}{kind}"] = _grant(
                        persona, lf_tag_policy(grant, kind.upper().rstrip("S")), permissions, prerequisites)
    for persona in policy.personas.values():
        for location in persona.data_locations:
            resources[f"{camel(persona.name)}{camel(location.replace('/', '_'))}Location"] = _grant(
                persona, {"DataLocation": {"CatalogId": CATALOG, "ResourceArn": location_arn(location)}},
                ["DATA_LOCATION_ACCESS"], [SETTINGS, f"{camel(location.partition('/')[0])}Location"])
    for cells in policy.filters:
        for name in cells.personas:
            grant = _grant(policy.personas[name],
                           {"DataCellsFilter": {"TableCatalogId": CATALOG, "DatabaseName": cells.table.database,
                                                "TableName": cells.table.table, "Name": cells.name}},
                           ["SELECT"], [*prerequisites, f"{camel(cells.name)}Filter"])
            resources[f"{camel(cells.name)}{camel(name)}Filter"] = {"Condition": TABLES_REGISTERED, **grant}
    return resources


def _filters(policy: Policy) -> dict[str, Any]:
    resources = {}
    for cells in policy.filters:
        properties: dict[str, Any] = {
            "TableCatalogId": CATALOG, "DatabaseName": cells.table.database, "TableName": cells.table.table,
            "Name": cells.name,
            "RowFilter": {"FilterExpression": cells.rows} if cells.rows else {"AllRowsWildcard": {}},
            "ColumnWildcard": {"ExcludedColumnNames": list(cells.excluded_columns)},
        }
        resources[f"{camel(cells.name)}Filter"] = {"Type": "AWS::LakeFormation::DataCellsFilter",
                                                   "Condition": TABLES_REGISTERED, "DependsOn": [SETTINGS],
                                                   "Properties": properties}
    return resources


def _settings(policy: Policy) -> dict[str, Any]:
    people = [principal(persona) for persona in policy.personas.values() if persona.administers]
    return {
        "Type": "AWS::LakeFormation::DataLakeSettings",
        "Properties": {
            "Admins": [*people, {"Fn::If": [HAS_ADMIN, {"DataLakePrincipalIdentifier": ref("LakeFormationAdminArn")},
                                            ref("AWS::NoValue")]}],
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
        },
    }


def _data_access_role() -> dict[str, Any]:
    buckets = [bucket_logical_id(zone) for zone in ZONES]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": sub("${Stage}-instacart-lakeformation"),
            "Description": "Lake Formation reads and writes the registered zone buckets for the principals it grants",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lakeformation.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}}]},
            "Policies": [policy("registered-locations", [
                allow(["s3:GetBucketLocation", "s3:ListBucket"], [bucket_arn(name) for name in buckets],
                      "ListTheZones"),
                allow(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [bucket_arn(name, "/*") for name in buckets],
                      "ReadAndWriteTheZones"),
                allow(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], key_arn(), "UseTheDataKey"),
            ])],
        },
    }


def _person_role(persona: Persona) -> dict[str, Any]:
    databases = [aws_locations().database(zone) for zone in ZONES]
    catalog = f"{ARN}:glue:{REGIONAL}"
    return {
        "Type": "AWS::IAM::Role",
        "Metadata": checkov_skips(("CKV_AWS_111", "lakeformation:GetDataAccess has no resource-level permissions; "
                                                  "Lake Formation's grants decide what it vends.")),
        "Properties": {
            "RoleName": sub(f"${{Stage}}-instacart-{persona.name.replace('_', '-')}"),
            "Description": f"The {persona.name} persona: {persona.description}"[:1000],
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": sub(f"{ARN}:iam::${{AWS::AccountId}}:root")},
                "Action": "sts:AssumeRole"}]},
            "Policies": [policy("query-the-lake", [
                allow(["athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetWorkGroup",
                       "athena:StartQueryExecution", "athena:StopQueryExecution"],
                      sub(f"{ARN}:athena:{REGIONAL}:workgroup/{WORKGROUP_NAME}"), "QueryInTheWorkgroup"),
                allow(["glue:GetDatabase", "glue:GetDatabases", "glue:GetPartition", "glue:GetPartitions",
                       "glue:GetTable", "glue:GetTables"],
                      [sub(f"{catalog}:catalog"), *[sub(f"{catalog}:database/{name}") for name in databases],
                       *[sub(f"{catalog}:table/{name}/*") for name in databases]], "ReadTheCatalog"),
                allow(["lakeformation:GetDataAccess"], "*", "TakeTheDataLakeFormationGrants"),
                allow(["s3:GetObject", "s3:PutObject"], bucket_arn("ArtifactsBucket", f"/{RESULTS_PREFIX}*"),
                      "WriteQueryResults"),
                allow(["s3:GetBucketLocation", "s3:ListBucket"], bucket_arn("ArtifactsBucket"), "ListQueryResults"),
                allow(["kms:Decrypt", "kms:GenerateDataKey"], key_arn(), "UseTheDataKey"),
            ])],
        },
    }


def _resources(policy: Policy) -> dict[str, Any]:
    resources: dict[str, Any] = {DATA_ACCESS_ROLE: _data_access_role()}
    for persona in policy.personas.values():
        if persona.kind == PERSON:
            resources[persona_role_id(persona)] = _person_role(persona)
    resources[SETTINGS] = _settings(policy)
    for zone in ZONES:
        resources[f"{camel(zone)}Location"] = {
            "Type": "AWS::LakeFormation::Resource",
            "DependsOn": [SETTINGS],
            "Properties": {"ResourceArn": bucket_arn(bucket_logical_id(zone)), "UseServiceLinkedRole": False,
                           "RoleArn": get_att(DATA_ACCESS_ROLE, "Arn")},
        }
    for key, values in policy.tags.items():
        resources[f"Tag{camel(key)}"] = {"Type": "AWS::LakeFormation::Tag", "DependsOn": [SETTINGS],
                                         "Properties": {"CatalogId": CATALOG, "TagKey": key,
                                                        "TagValues": list(values)}}
    return {**resources, **_assignments(policy), **_filters(policy), **_grants(policy)}


def template(policy_path=POLICY_PATH) -> dict[str, Any]:
    policy = load_policy(aws_locations(), policy_path)
    stack_roles = sorted({persona.role for persona in policy.personas.values() if persona.role})
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Instacart lake governance: Lake Formation settings, registered zones, LF-tags, grants and data "
                       "cells filters of lakeformation/policy.toml, and the roles of the people personas.",
        "Parameters": {
            **STAGE_PARAMETER,
            **resource_parameters(*(bucket_logical_id(zone) for zone in ZONES), "ArtifactsBucket", "DataKey",
                                  *stack_roles),
            "LakeFormationAdminArn": string_parameter(
                "A Lake Formation administrator besides the data engineers: the IAM role lake deploy runs as, which "
                "makes this stack's grants (empty: none)", ""),
            TABLES_REGISTERED: {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                                "Description": "true once the jobs have registered the tables (after the first run): "
                                               "tags tables and columns and makes the data cells filters"},
        },
        "Conditions": {
            HAS_ADMIN: {"Fn::Not": [{"Fn::Equals": [ref("LakeFormationAdminArn"), ""]}]},
            TABLES_REGISTERED: {"Fn::Equals": [ref(TABLES_REGISTERED), "true"]},
        },
        "Resources": _resources(policy),
    }
