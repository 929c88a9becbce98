"""What the prediction API's store may hold: only what the policy's prediction_api persona
reads. The serving export asks before it reads a gold or reference table."""

from __future__ import annotations

from instacart_lake.catalog.names import TableName
from instacart_lake.governance.access import AccessDenied, read_access
from instacart_lake.governance.policy import POLICY_PATH, read_policy
from instacart_lake.locations import Locations

SERVING_PERSONA = "prediction_api"


def require_served(locations: Locations, zone: str, table: str, columns: list[str]) -> None:
    """Refuse (AccessDenied) a read of `columns` of a zone's table for the prediction API's
    store that the policy does not give its persona, or gives only some rows of."""
    name = TableName(locations.database(zone), table)
    access = read_access(read_policy(POLICY_PATH), SERVING_PERSONA, name, tuple(columns)).require_readable()
    access.require_columns(columns)
    if access.row_filter:
        raise AccessDenied(f"{SERVING_PERSONA} reads only the rows of {name} where {access.row_filter} "
                           f"({', '.join(access.rules)}); the serving export reads whole tables")
