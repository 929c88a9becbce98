"""`lake deploy` and `lake destroy`: a stage's stacks created or updated in order, the code
uploaded in between, and a stage removed with its buckets' data kept unless told otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from instacart_lake.config import ZONES
from instacart_lake.deploy.change_sets import IN_REVIEW, StackChange, StackDeployer, stack_status
from instacart_lake.deploy.packages import Package, build_packages, code_prefix
from instacart_lake.deploy.stacks import FIRST_STACK, DeployError, StackTemplate, stack_parameters, stack_templates
from instacart_lake.deploy.templates.intrinsics import deployed_lake_settings, powertools_layer_parameter_name, sub
from instacart_lake.deploy.templates.storage import bucket_logical_id
from instacart_lake.query.template import WORKGROUP_NAME as ATHENA_WORKGROUP
from instacart_lake.stream.settings import load_stream_settings

Report = Callable[[str], None]
ARTIFACTS = bucket_logical_id("artifacts")
ZONE_BUCKETS = tuple(bucket_logical_id(zone) for zone in ZONES)


@dataclass(frozen=True)
class AwsClients:
    cloudformation: Any
    s3: Any
    region: str


def deploy_parameters(stage: str, prefix: str) -> dict[str, str]:
    """The parameters lake deploy sets in every stack that declares them."""
    return {"Stage": stage, "CodePrefix": prefix, "PowertoolsLayerArn": powertools_layer_parameter_name()}


def _stack_resources(clients: AwsClients, stack: str) -> dict[str, str]:
    """Logical id -> physical id of a deployed stack's resources."""
    resources: dict[str, str] = {}
    paginator = clients.cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack):
        for summary in page["StackResourceSummaries"]:
            if summary.get("LogicalResourceId") and summary.get("PhysicalResourceId"):
                resources[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    return resources


def _template_url(clients: AwsClients, bucket: str, key: str) -> str:
    return f"https://{bucket}.s3.{clients.region}.amazonaws.com/{key}"


def upload_packages(clients: AwsClients, bucket: str, prefix: str, packages: list[Package], report: Report) -> int:
    """Put each package under the prefix unless it is there already; returns how many were put."""
    put = 0
    for package in packages:
        key = f"{prefix}/{package.key}"
        try:
            clients.s3.head_object(Bucket=bucket, Key=key)
            continue
        except clients.s3.exceptions.ClientError:
            pass
        clients.s3.put_object(Bucket=bucket, Key=key, Body=package.data)
        put += 1
    report(f"code {prefix}: {put} of {len(packages)} packages uploaded to s3://{bucket}/{prefix}/")
    return put


def _template_packages(templates: list[StackTemplate]) -> list[Package]:
    return [Package(f"templates/{template.path.name}", template.body.encode("utf-8")) for template in templates]


def deploy(clients: AwsClients, stage: str, dry_run: bool, overrides: dict[str, str],
           report: Report) -> list[StackChange]:
    """Create or update the stage's stacks in order; with `dry_run` only say what would change
    (a change set is made and deleted for each stack that exists; nothing is uploaded)."""
    templates = stack_templates()
    packages = [*build_packages(), *_template_packages(templates)]
    prefix = code_prefix(packages)
    given = {**deploy_parameters(stage, prefix), **overrides}
    deployer = StackDeployer(clients.cloudformation, report)
    resources: dict[str, str] = {}
    changes = []
    uploaded = False
    report(f"stage {stage} in {clients.region}: {len(templates)} stacks, code {prefix}"
           + (" (dry run: nothing is changed)" if dry_run else ""))
    for template in templates:
        stack = template.stack_name(stage)
        if dry_run and stack_status(clients.cloudformation, stack) in (None, IN_REVIEW):
            change = StackChange(stack, "create", [{"action": "Add", "resource": name, "type": resource["Type"],
                                                    "replacement": ""}
                                                   for name, resource in template.resources.items()])
        else:
            if template.name != FIRST_STACK and not dry_run and not uploaded:
                upload_packages(clients, _artifacts_bucket(resources), prefix, packages, report)
                uploaded = True
            change = deployer.deploy(stack, _template_source(clients, template, prefix, resources, dry_run),
                                     stack_parameters(template, given, resources), dry_run)
        changes.append(change)
        report(_describe(change))
        if stack_status(clients.cloudformation, stack) not in (None, IN_REVIEW):
            resources |= _stack_resources(clients, stack)
    if not dry_run:
        settings = stage_settings(resources, clients.region, stage)
        report("this machine reaches the stage with:\n  export " + " ".join(
            f"{name}={value}" for name, value in settings.items()))
    return changes


def _artifacts_bucket(resources: dict[str, str]) -> str:
    if ARTIFACTS not in resources:
        raise DeployError(f"the {FIRST_STACK} stack has no {ARTIFACTS} resource")
    return resources[ARTIFACTS]


def _template_source(clients: AwsClients, template: StackTemplate, prefix: str, resources: dict[str, str],
                     dry_run: bool) -> dict[str, str]:
    """The first stack's template goes as a body (it makes the artifacts bucket), as does every
    template of a dry run; the others were uploaded with the code and are read from there."""
    if template.name == FIRST_STACK or dry_run:
        return {"TemplateBody": template.body}
    key = f"{prefix}/templates/{template.path.name}"
    return {"TemplateURL": _template_url(clients, _artifacts_bucket(resources), key)}


def stage_settings(resources: dict[str, str], region: str, stage: str) -> dict[str, str]:
    """The LAKE_* settings that point this machine's aws profile at the deployed stage (for
    `lake query --profile aws`, `lake status --profile aws`, ...)."""
    values = {**resources, "AWS::Region": region, "Stage": stage}
    settings = {}
    stream_name = sub(f"${{Stage}}-{load_stream_settings(environ={}).stream_name}")
    for name, value in {**deployed_lake_settings(), "LAKE_ATHENA_WORKGROUP": sub(ATHENA_WORKGROUP),
                        "LAKE_STREAM_STREAM_NAME": stream_name}.items():
        if isinstance(value, dict):
            value = value.get("Fn::Sub") or values[value["Ref"]]
            value = re.sub(r"\$\{([^}]+)\}", lambda match: values[match.group(1)], value)
        settings[name] = value
    return settings


def _describe(change: StackChange) -> str:
    if change.action == "none":
        return f"{change.stack}: no changes"
    lines = [f"{change.stack}: {change.action}" + (f" -> {change.status}" if change.status else "")]
    lines += [f"    {item['action']:<7} {item['resource']} ({item['type']})"
              + (f" replacement: {item['replacement']}" if item["replacement"] not in ("", "False") else "")
              for item in change.changes]
    return "\n".join(lines)


def _object_count(clients: AwsClients, bucket: str) -> int:
    """Object versions and delete markers left in a bucket (a versioned bucket keeps them)."""
    page = clients.s3.list_object_versions(Bucket=bucket, MaxKeys=1000)
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


def _empty_bucket(clients: AwsClients, bucket: str) -> int:
    removed = 0
    paginator = clients.s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        items = [{"Key": item["Key"], "VersionId": item["VersionId"]}
                 for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]]
        for start in range(0, len(items), 1000):
            clients.s3.delete_objects(Bucket=bucket, Delete={"Objects": items[start:start + 1000], "Quiet": True})
        removed += len(items)
    return removed


def destroy(clients: AwsClients, stage: str, delete_data: bool, report: Report) -> list[str]:
    """Delete the stage's stacks, last first. Refused while a zone bucket holds data, unless
    `delete_data`; the artifacts and access-log buckets are emptied (they hold no lake data)."""
    templates = stack_templates()
    storage = next(template for template in templates if template.name == FIRST_STACK)
    storage_stack = storage.stack_name(stage)
    buckets = _stack_resources(clients, storage_stack) if stack_status(clients.cloudformation, storage_stack) else {}
    holding = {name: _object_count(clients, buckets[name]) for name in ZONE_BUCKETS if name in buckets}
    holding = {name: count for name, count in holding.items() if count}
    if holding and not delete_data:
        listed = ", ".join(f"{buckets[name]} ({count}{'+' if count >= 1000 else ''} objects)"
                           for name, count in holding.items())
        raise DeployError(f"stage {stage}: zone buckets hold data: {listed}; nothing was deleted "
                          "(pass --delete-data to delete it with the stage)")
    deployer = StackDeployer(clients.cloudformation, report)
    deleted = []
    for template in reversed(templates):
        stack = template.stack_name(stage)
        if template.name == FIRST_STACK:
            for name, bucket in buckets.items():
                if name.endswith("Bucket"):
                    removed = _empty_bucket(clients, bucket)
                    if removed:
                        report(f"{bucket}: {removed} object versions deleted")
        status = deployer.delete(stack)
        report(f"{stack}: {'not deployed' if status == 'absent' else 'deleted'}")
        if status != "absent":
            deleted.append(stack)
    return deleted
