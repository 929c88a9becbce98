"""`python -m instacart_lake.deploy.templates [--check]` (`make templates`): write the
generated templates of cloudformation/, or with --check list the stale ones and exit 1."""

from __future__ import annotations

import sys

from instacart_lake.deploy.templates.generated import stale_templates, write_templates


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        stale = stale_templates()
        for name in stale:
            print(f"cloudformation/{name} is stale: run `make templates`", file=sys.stderr)
        return 1 if stale else 0
    if argv:
        print("usage: python -m instacart_lake.deploy.templates [--check]", file=sys.stderr)
        return 2
    for path in write_templates():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
