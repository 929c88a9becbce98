"""The `lake` subcommands, one module each (see instacart_lake.cli)."""
