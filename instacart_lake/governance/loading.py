"""The policy as the query engine, the templates and the commands use it: read, then checked
against the tables of the lake."""

from __future__ import annotations

from pathlib import Path

from instacart_lake.governance.checks import checked
from instacart_lake.governance.policy import POLICY_PATH, Policy, read_policy
from instacart_lake.governance.tables import lake_tables
from instacart_lake.locations import Locations


def load_policy(locations: Locations, path: Path = POLICY_PATH) -> Policy:
    """The policy, checked against the tables of the lake at `locations`."""
    return checked(read_policy(path), lake_tables(locations))
