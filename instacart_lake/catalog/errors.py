"""The catalog's error types, the same for both implementations (never botocore's)."""

from instacart_lake.errors import LakeError


class CatalogError(LakeError):
    """The catalog refused or failed an operation."""


class EntityNotFoundError(CatalogError):
    """No such database, table or partition (Glue's EntityNotFoundException)."""


class AlreadyExistsError(CatalogError):
    """The database, table or partition exists already (Glue's AlreadyExistsException)."""
