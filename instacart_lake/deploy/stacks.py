"""The stacks of a stage, in deployment order, and the parameters each is given.

Stacks are joined by parameters, not exports: a parameter named like a resource of an earlier
stack of the stage (RawBucket, DataKey, SageMakerExecutionRole, ...) takes that resource's
physical id (its Ref: a bucket's or role's name, a key's id). No stack is then pinned by
another's exports, and a stack can be replaced without touching the ones that use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from instacart_lake.deploy.templates.rendering import TEMPLATES_DIR, load_template
from instacart_lake.errors import LakeError

# In deployment order: each stack takes resources of the stacks before it.
STACK_ORDER = ("storage", "catalog", "ml", "api", "jobs", "orchestration", "governance", "athena", "stream",
               "monitoring")
FIRST_STACK = "storage"
"""Creates the artifacts bucket, so its template goes as a body; the others are read by
CloudFormation from the artifacts bucket."""


class DeployError(LakeError):
    """A deployment that cannot go on: what failed and why."""


@dataclass(frozen=True)
class StackTemplate:
    name: str
    path: Path

    def stack_name(self, stage: str) -> str:
        return f"{stage}-instacart-{self.name}"

    @property
    def body(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def parameters(self) -> dict[str, Any]:
        return load_template(self.path).get("Parameters", {})

    @property
    def resources(self) -> dict[str, Any]:
        return load_template(self.path).get("Resources", {})


def stack_templates(folder: Path = TEMPLATES_DIR) -> list[StackTemplate]:
    """Every template of cloudformation/, in deployment order; a template not in the order is an error."""
    found = {path.stem: path for path in folder.glob("*.yaml")}
    unordered = sorted(set(found) - set(STACK_ORDER))
    if unordered:
        raise DeployError(f"{folder}: no deployment order for {', '.join(unordered)} (add them to STACK_ORDER)")
    return [StackTemplate(name, found[name]) for name in STACK_ORDER if name in found]


def stack_parameters(template: StackTemplate, given: Mapping[str, str],
                     resources: Mapping[str, str]) -> list[dict[str, str]]:
    """The parameters to pass: `given` (stage, code prefix, --parameter values) first, then the
    physical ids of earlier stacks' resources; a parameter with neither keeps its default,
    and one without a default is an error naming it."""
    values = []
    missing = []
    for name, declaration in template.parameters.items():
        value = given.get(name, resources.get(name))
        if value is not None:
            values.append({"ParameterKey": name, "ParameterValue": str(value)})
        elif "Default" not in declaration:
            missing.append(name)
    if missing:
        raise DeployError(f"{template.path.name}: no value for parameter(s) {', '.join(missing)}: neither a resource "
                          f"of an earlier stack nor given with --parameter NAME=VALUE")
    return values
