"""The catalog stack: a Glue database per zone (names and descriptions as the jobs register
them), the Glue security configuration the crawlers and jobs run with, and each crawler of
the top-level `crawlers/` folder with its role."""

from __future__ import annotations

import json
from typing import Any

from instacart_lake.config import ZONES, load_config
from instacart_lake.crawler.definition import CrawlerDefinition, all_crawlers
from instacart_lake.deploy.templates.intrinsics import (
    STAGE_PARAMETER,
    allow,
    assume_role_policy,
    bucket_arn,
    camel,
    key_arn,
    policy,
    ref,
    resource_parameters,
    sub,
)
from instacart_lake.deploy.templates.storage import bucket_logical_id
from instacart_lake.locations import Locations
from instacart_lake.registration import ZONE_DESCRIPTIONS

SOURCES = "crawlers/*.toml, the zones of instacart_lake/registration.py and instacart_lake/deploy/templates/catalog.py"
SECURITY_CONFIGURATION = "GlueSecurityConfiguration"


def aws_locations() -> Locations:
    """The aws profile as lake.toml writes it, with no environment override."""
    return Locations(load_config(profile="aws", environ={}))


def _database(zone: str, locations: Locations) -> dict[str, Any]:
    return {
        "Type": "AWS::Glue::Database",
        "Properties": {
            "CatalogId": ref("AWS::AccountId"),
            "DatabaseInput": {
                "Name": locations.database(zone),
                "Description": ZONE_DESCRIPTIONS[zone],
                "LocationUri": sub(f"s3://${{{bucket_logical_id(zone)}}}/"),
                # No IAMAllowedPrincipals grant on the tables the jobs add: Lake Formation governs them.
                "CreateTableDefaultPermissions": [],
            },
        },
    }


def _security_configuration() -> dict[str, Any]:
    return {
        "Type": "AWS::Glue::SecurityConfiguration",
        "Properties": {
            "Name": sub("${Stage}-instacart-lake"),
            "EncryptionConfiguration": {
                "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": key_arn()}],
                "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": key_arn()},
                "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": key_arn()},
            },
        },
    }


def _crawler_role(crawler: CrawlerDefinition, locations: Locations) -> dict[str, Any]:
    bucket = bucket_logical_id(crawler.zone)
    database = locations.database(crawler.zone)
    catalog = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}"
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": sub(f"${{Stage}}-instacart-{crawler.name.replace('_', '-')}"),
            "Description": f"The {crawler.name} crawler: reads the {crawler.zone} zone, writes its database",
            "AssumeRolePolicyDocument": assume_role_policy("glue.amazonaws.com"),
            "Policies": [policy("crawl", [
                allow(["s3:ListBucket"], bucket_arn(bucket), "ListTheZone"),
                allow(["s3:GetObject"], bucket_arn(bucket, "/*"), "ReadTheZone"),
                allow(["kms:Decrypt", "kms:GenerateDataKey"], key_arn(), "UseTheDataKey"),
                allow(["glue:BatchCreatePartition", "glue:BatchGetPartition", "glue:CreateTable", "glue:GetDatabase",
                       "glue:GetPartition", "glue:GetPartitions", "glue:GetTable", "glue:GetTables",
                       "glue:UpdatePartition", "glue:UpdateTable"],
                      [sub(f"{catalog}:catalog"), sub(f"{catalog}:database/{database}"),
                       sub(f"{catalog}:table/{database}/*")], "WriteTheZonesDatabase"),
                allow(["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                      sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws-glue/crawlers*"),
                      "WriteCrawlerLogs"),
            ])],
        },
    }


def _crawler(crawler: CrawlerDefinition, locations: Locations) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Name": crawler.glue_name(locations.config.database_prefix),
        "Description": crawler.description,
        "Role": {"Fn::GetAtt": [f"{camel(crawler.name)}Role", "Arn"]},
        "DatabaseName": locations.database(crawler.zone),
        "Targets": {"S3Targets": [{"Path": sub(f"s3://${{{bucket_logical_id(crawler.zone)}}}/"),
                                   "Exclusions": list(crawler.exclusions)}]},
        "Classifiers": list(crawler.classifiers),
        "RecrawlPolicy": {"RecrawlBehavior": crawler.recrawl_behavior},
        "SchemaChangePolicy": {"UpdateBehavior": crawler.update_behavior, "DeleteBehavior": crawler.delete_behavior},
        "Configuration": json.dumps(crawler.configuration, sort_keys=True),
        "CrawlerSecurityConfiguration": ref(SECURITY_CONFIGURATION),
    }
    if crawler.schedule:
        properties["Schedule"] = {"ScheduleExpression": crawler.schedule}
    return {"Type": "AWS::Glue::Crawler", "DependsOn": [f"{camel(zone)}Database" for zone in ZONES],
            "Properties": properties}


def template() -> dict[str, Any]:
    locations = aws_locations()
    resources: dict[str, Any] = {f"{camel(zone)}Database": _database(zone, locations) for zone in ZONES}
    resources[SECURITY_CONFIGURATION] = _security_configuration()
    for crawler in all_crawlers():
        resources[f"{camel(crawler.name)}Role"] = _crawler_role(crawler, locations)
        resources[camel(crawler.name)] = _crawler(crawler, locations)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Instacart lake catalog: a Glue database per zone, the crawlers of crawlers/ and their roles.",
        "Parameters": {**STAGE_PARAMETER,
                       **resource_parameters(*(bucket_logical_id(zone) for zone in ZONES), "DataKey")},
        "Resources": resources,
        "Outputs": {SECURITY_CONFIGURATION: {"Value": ref(SECURITY_CONFIGURATION)}},
    }
