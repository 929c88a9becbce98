"""The generated templates of cloudformation/, one module per stack. Each module's `template()`
returns the template as a dictionary; `python -m instacart_lake.deploy.templates` (`make
templates`) writes them, and a test fails when a committed one is stale."""
