"""CloudFormation intrinsic functions and the parts every generated stack shares, in the long
form that JSON and YAML both carry."""

from __future__ import annotations

from typing import Any

STAGE_PARAMETER = {
    "Stage": {
        "Type": "String",
        "Default": "dev",
        "AllowedPattern": "^[a-z][a-z0-9-]{1,19}$",
        "Description": "The lake's stage (dev, prod, ...), part of every bucket, role and function name.",
    }
}

POWERTOOLS_LAYER_PARAMETER = {
    "Type": "AWS::SSM::Parameter::Value<String>",
    "Description": ("The public SSM parameter holding the ARN of the aws-lambda-powertools layer of the version "
                    "versions.toml pins (set by lake deploy); the layer brings pydantic too"),
}


def powertools_layer_parameter_name() -> str:
    """The public SSM parameter of the powertools layer for the pinned Python and powertools."""
    from instacart_lake.versions import load_manifest

    manifest = load_manifest()
    return (f"/aws/service/powertools/python/x86_64/python{manifest['platform']['python']}/"
            f"{manifest['python']['aws-lambda-powertools']}")


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def get_att(resource: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [resource, attribute]}


def bucket_arn(parameter: str, keys: str = "") -> dict[str, str]:
    """The ARN of the bucket named by a parameter, with `keys` (e.g. "/*") after it."""
    return sub(f"arn:${{AWS::Partition}}:s3:::${{{parameter}}}{keys}")


def key_arn(parameter: str = "DataKey") -> dict[str, str]:
    """The ARN of the KMS key whose id a parameter holds (a key's Ref is its id)."""
    return sub(f"arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/${{{parameter}}}")


def string_parameter(description: str, default: str | None = None) -> dict[str, Any]:
    parameter: dict[str, Any] = {"Type": "String", "Description": description}
    if default is not None:
        parameter["Default"] = default
    return parameter


def resource_parameters(*names: str) -> dict[str, dict[str, Any]]:
    """Parameters that `lake deploy` fills with the physical id of the earlier stacks' resource
    of the same logical name (a bucket's name, a key's id, a role's name)."""
    return {name: string_parameter(f"The {name} of an earlier stack (set by lake deploy)") for name in names}


def assume_role_policy(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def policy(name: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}


def allow(actions: list[str], resources: list[Any] | Any, sid: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": sorted(actions),
                                 "Resource": resources if isinstance(resources, list) else [resources]}
    if sid:
        statement = {"Sid": sid, **statement}
    return statement


def log_group(name: Any, retention_days: int = 90) -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": name, "RetentionInDays": retention_days, "KmsKeyId": key_arn()},
    }


def checkov_skips(*skips: tuple[str, str]) -> dict[str, Any]:
    """Resource Metadata that skips checkov checks, each with its reason."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in skips]}}


def camel(name: str) -> str:
    """raw_to_clean -> RawToClean, for logical ids."""
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def deployed_lake_settings() -> dict[str, Any]:
    """The configuration overrides (LAKE_<KEY>) that point the aws profile at a deployed stage:
    the Lambda functions' environment, and the Glue jobs' `--LAKE_<KEY>` arguments."""
    from instacart_lake.config import ZONES

    return {
        "LAKE_PROFILE": "aws",
        "LAKE_REGION": ref("AWS::Region"),
        **{f"LAKE_{zone.upper()}_URI": sub(f"s3://${{{camel(zone)}Bucket}}") for zone in ZONES},
    }
