"""`lake governance apply`: the policy's Lake Formation settings, registrations, LF-tags, tag
assignments, data cells filters and grants made through the Lake Formation API, as the
governance stack makes them; and the IAMAllowedPrincipals grants that Glue gave the lake's
databases before Lake Formation governed them revoked. Every step may be repeated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import ClientError

from instacart_lake.config import ZONES
from instacart_lake.deploy.stacks import stack_templates
from instacart_lake.deploy.templates.storage import bucket_logical_id
from instacart_lake.errors import LakeError
from instacart_lake.governance.policy import Persona, Policy
from instacart_lake.governance.template import DATA_ACCESS_ROLE, lf_tag_policy, persona_role_id

IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"
ALREADY_DONE = ("AlreadyExistsException",)
Report = Callable[[str], None]


@dataclass(frozen=True)
class Deployment:
    """What the grants name on a deployed stage: each persona's role ARN, each zone's bucket
    ARN, the role Lake Formation reads the zones with, and the administrators."""

    catalog_id: str
    role_arns: dict[str, str]
    bucket_arns: dict[str, str]
    data_access_role_arn: str
    admin_arns: tuple[str, ...]


def _principal(deployment: Deployment, persona: Persona) -> dict[str, str]:
    return {"DataLakePrincipalIdentifier": deployment.role_arns[persona.name]}


def location_arn(deployment: Deployment, location: str) -> str:
    zone, _, prefix = location.partition("/")
    return deployment.bucket_arns[zone] + (f"/{prefix}" if prefix else "")


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _tags(catalog_id: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"CatalogId": catalog_id, "TagKey": key, "TagValues": [value]} for key, value in tags.items()]


def grant_requests(policy: Policy, deployment: Deployment) -> list[dict[str, Any]]:
    """The GrantPermissions requests of the policy: LF-tag policies, data locations, filters."""
    catalog = deployment.catalog_id
    requests = []
    for grant in policy.grants:
        for name in grant.personas:
            for resource_type, permissions in (("TABLE", grant.table_permissions),
                                               ("DATABASE", grant.database_permissions)):
                if permissions:
                    resource = lf_tag_policy(grant, resource_type)
                    resource["LFTagPolicy"]["CatalogId"] = catalog
                    requests.append({"CatalogId": catalog, "Principal": _principal(deployment, policy.personas[name]),
                                     "Resource": resource, "Permissions": list(permissions)})
    for persona in policy.personas.values():
        for location in persona.data_locations:
            requests.append({"CatalogId": catalog, "Principal": _principal(deployment, persona),
                             "Resource": {"DataLocation": {"CatalogId": catalog,
                                                           "ResourceArn": location_arn(deployment, location)}},
                             "Permissions": ["DATA_LOCATION_ACCESS"]})
    for cells in policy.filters:
        for name in cells.personas:
            requests.append({"CatalogId": catalog, "Principal": _principal(deployment, policy.personas[name]),
                             "Resource": {"DataCellsFilter": {"TableCatalogId": catalog,
                                                              "DatabaseName": cells.table.database,
                                                              "TableName": cells.table.table, "Name": cells.name}},
                             "Permissions": ["SELECT"]})
    return requests


def _register(client, deployment: Deployment, report: Report) -> None:
    for zone, arn in deployment.bucket_arns.items():
        try:
            client.register_resource(ResourceArn=arn, RoleArn=deployment.data_access_role_arn,
                                     UseServiceLinkedRole=False)
            report(f"registered {arn} ({zone})")
        except ClientError as error:
            if _error_code(error) not in ALREADY_DONE:
                raise


def _create_tags(client, policy: Policy, catalog: str, report: Report) -> None:
    existing = {tag["TagKey"]: tag["TagValues"] for tag in client.list_lf_tags(CatalogId=catalog)["LFTags"]}
    for key, values in policy.tags.items():
        if key not in existing:
            client.create_lf_tag(CatalogId=catalog, TagKey=key, TagValues=list(values))
            report(f"LF-tag {key}: {', '.join(values)}")
        elif missing := [value for value in values if value not in existing[key]]:
            client.update_lf_tag(CatalogId=catalog, TagKey=key, TagValuesToAdd=missing)
            report(f"LF-tag {key}: added {', '.join(missing)}")


def _assign_tags(client, policy: Policy, catalog: str, report: Report) -> None:
    resources = [({"Database": {"CatalogId": catalog, "Name": name}}, tags, name)
                 for name, tags in policy.databases.items()]
    resources += [({"Table": {"CatalogId": catalog, "DatabaseName": table.database, "Name": table.table}}, tags,
                   str(table)) for table, tags in policy.tables.items()]
    resources += [({"TableWithColumns": {"CatalogId": catalog, "DatabaseName": table.database, "Name": table.table,
                                         "ColumnNames": [column]}}, tags, f"{table}.{column}")
                  for (table, column), tags in policy.columns.items()]
    for resource, tags, name in resources:
        failures = client.add_lf_tags_to_resource(CatalogId=catalog, Resource=resource,
                                                  LFTags=_tags(catalog, tags)).get("Failures", [])
        if failures:
            raise ClientError({"Error": {"Code": failures[0]["Error"]["ErrorCode"],
                                         "Message": f"{name}: {failures[0]['Error']['ErrorMessage']}"}},
                              "AddLFTagsToResource")
        report(f"tagged {name}: " + ", ".join(f"{key}={value}" for key, value in tags.items()))


def _create_filters(client, policy: Policy, catalog: str, report: Report) -> None:
    for cells in policy.filters:
        table_data: dict[str, Any] = {
            "TableCatalogId": catalog, "DatabaseName": cells.table.database, "TableName": cells.table.table,
            "Name": cells.name, "ColumnWildcard": {"ExcludedColumnNames": list(cells.excluded_columns)},
            "RowFilter": {"FilterExpression": cells.rows} if cells.rows else {"AllRowsWildcard": {}},
        }
        try:
            client.create_data_cells_filter(TableData=table_data)
            report(f"data cells filter {cells.name} on {cells.table}")
        except ClientError as error:
            if _error_code(error) not in ALREADY_DONE:
                raise


def _revoke_iam_allowed_principals(client, policy: Policy, catalog: str, report: Report) -> None:
    for name in policy.databases:
        try:
            client.revoke_permissions(CatalogId=catalog,
                                      Principal={"DataLakePrincipalIdentifier": IAM_ALLOWED_PRINCIPALS},
                                      Resource={"Database": {"CatalogId": catalog, "Name": name}}, Permissions=["ALL"])
            report(f"{name}: IAMAllowedPrincipals revoked")
        except ClientError as error:
            if _error_code(error) not in ("InvalidInputException", "EntityNotFoundException"):
                raise


def apply_policy(client, policy: Policy, deployment: Deployment, report: Report) -> int:
    """Make the policy's Lake Formation state with `client` (boto3's lakeformation); returns
    the number of grants made. The administrators already set stay (the caller among them)."""
    catalog = deployment.catalog_id
    current = client.get_data_lake_settings(CatalogId=catalog)["DataLakeSettings"]
    admins = list(dict.fromkeys([*(admin["DataLakePrincipalIdentifier"] for admin in current.get("DataLakeAdmins", [])),
                                 *deployment.admin_arns]))
    client.put_data_lake_settings(CatalogId=catalog, DataLakeSettings={
        **current, "DataLakeAdmins": [{"DataLakePrincipalIdentifier": arn} for arn in admins],
        "CreateDatabaseDefaultPermissions": [], "CreateTableDefaultPermissions": []})
    report("settings: administrators " + ", ".join(admins) + "; no IAMAllowedPrincipals defaults")
    _register(client, deployment, report)
    _create_tags(client, policy, catalog, report)
    _assign_tags(client, policy, catalog, report)
    _create_filters(client, policy, catalog, report)
    _revoke_iam_allowed_principals(client, policy, catalog, report)
    requests = grant_requests(policy, deployment)
    for request in requests:
        client.grant_permissions(**request)
    report(f"{len(requests)} grants made")
    return len(requests)


def stage_resources(cloudformation, stage: str) -> dict[str, str]:
    """Logical id -> physical id of every resource of the stage's deployed stacks."""
    resources: dict[str, str] = {}
    for template in stack_templates():
        try:
            pages = list(cloudformation.get_paginator("list_stack_resources").paginate(
                StackName=template.stack_name(stage)))
        except ClientError as error:
            if "does not exist" in str(error):
                continue
            raise
        resources |= {summary["LogicalResourceId"]: summary["PhysicalResourceId"]
                      for page in pages for summary in page["StackResourceSummaries"]
                      if summary.get("PhysicalResourceId")}
    return resources


def stage_deployment(policy: Policy, resources: dict[str, str], account: str, partition: str = "aws") -> Deployment:
    """The ARNs of a deployed stage (its stacks' `resources`) that the policy names."""
    needed = {persona.name: persona_role_id(persona) for persona in policy.personas.values()}
    missing = sorted({*needed.values(), DATA_ACCESS_ROLE, *(bucket_logical_id(zone) for zone in ZONES)}
                     - set(resources))
    if missing:
        raise LakeError(f"the stage's stacks have no {', '.join(missing)}: deploy the stage (lake deploy) first")
    role_arns = {name: f"arn:{partition}:iam::{account}:role/{resources[logical]}" for name, logical in needed.items()}
    return Deployment(
        catalog_id=account,
        role_arns=role_arns,
        bucket_arns={zone: f"arn:{partition}:s3:::{resources[bucket_logical_id(zone)]}" for zone in ZONES},
        data_access_role_arn=f"arn:{partition}:iam::{account}:role/{resources[DATA_ACCESS_ROLE]}",
        admin_arns=tuple(role_arns[persona.name] for persona in policy.personas.values() if persona.administers),
    )
