"""Governance: the one access policy (lakeformation/policy.toml), checked against the lake's
tables (governance.loading), compiled into Lake Formation (governance.template, governance.apply)
and enforced locally (governance.access: the query engine and the serving export call it).

The package imports only the standard library, so the serving export's Glue job imports it as is."""

from instacart_lake.governance.access import AccessDenied, TableAccess, read_access, writes
from instacart_lake.governance.policy import POLICY_PATH, CellsFilter, Grant, Persona, Policy, PolicyError, read_policy
from instacart_lake.governance.serving import SERVING_PERSONA, require_served

__all__ = [
    "POLICY_PATH", "SERVING_PERSONA", "AccessDenied", "CellsFilter", "Grant", "Persona", "Policy", "PolicyError",
    "TableAccess", "read_access", "read_policy", "require_served", "writes",
]
