"""The image of the SageMaker XGBoost framework container, by region.

Accounts from the SageMaker Python SDK's `image_uri_config/xgboost.json` (framework
versions 0.90-1 to 2.1-0 share them). Only these regions are listed; add a region here
after checking that file.
"""

from __future__ import annotations

import re

from instacart_lake.ml.errors import MLStageError

XGBOOST_IMAGE_ACCOUNTS = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-central-1": "492215442770",
    "ap-northeast-1": "354813040037",
    "ap-southeast-2": "783357654285",
}
_FRAMEWORK_VERSION = re.compile(r"\d+\.\d+-\d+")


def xgboost_image_uri(region: str, version: str) -> str:
    """The ECR URI of the XGBoost framework container `version` (e.g. 1.7-1) in `region`."""
    if not _FRAMEWORK_VERSION.fullmatch(version):
        raise MLStageError(f"XGBoost framework version {version!r} is not of the form 1.7-1")
    account = XGBOOST_IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise MLStageError(
            f"no SageMaker XGBoost image known for region {region!r} "
            f"(known: {', '.join(sorted(XGBOOST_IMAGE_ACCOUNTS))}; see instacart_lake/ml/images.py)")
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:{version}"
