"""Creating or updating one stack through a change set, with CloudFormation's own client:
create the change set, wait for it, show or execute it, follow the stack's events to the end,
and stop with the failing resource's reason."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import ClientError

from instacart_lake.deploy.stacks import DeployError

CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
TERMINAL = ("_COMPLETE", "_FAILED")
IN_REVIEW = "REVIEW_IN_PROGRESS"


@dataclass
class StackChange:
    stack: str
    action: str
    """create, update, none (nothing changed) or, in a dry run, the action it would take."""
    changes: list[dict[str, str]] = field(default_factory=list)
    status: str = ""


def stack_status(cloudformation: Any, stack: str) -> str | None:
    """The stack's status, None when there is no such stack (or only a deleted one)."""
    try:
        status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return None if status == "DELETE_COMPLETE" else status


def _changes(description: dict[str, Any]) -> list[dict[str, str]]:
    return [{"action": change["ResourceChange"]["Action"],
             "resource": change["ResourceChange"]["LogicalResourceId"],
             "type": change["ResourceChange"]["ResourceType"],
             "replacement": change["ResourceChange"].get("Replacement", "")}
            for change in description.get("Changes", [])]


class StackDeployer:
    def __init__(self, cloudformation: Any, report: Callable[[str], None], poll_seconds: float = 5.0):
        self.cloudformation = cloudformation
        self.report = report
        self.poll_seconds = poll_seconds

    def deploy(self, stack: str, template: dict[str, str], parameters: list[dict[str, str]],
               dry_run: bool) -> StackChange:
        """`template` is {"TemplateBody": ...} or {"TemplateURL": ...}."""
        status = stack_status(self.cloudformation, stack)
        change_type = "CREATE" if status in (None, IN_REVIEW) else "UPDATE"
        if status and status.endswith("_FAILED") or status == "ROLLBACK_COMPLETE":
            raise DeployError(f"stack {stack} is {status}: delete it (lake destroy) or fix it in the console first")
        if dry_run and change_type == "CREATE":
            return StackChange(stack, "create")
        name = f"lake-deploy-{int(time.time())}"
        try:
            change_set = self.cloudformation.create_change_set(
                StackName=stack, ChangeSetName=name, ChangeSetType=change_type, Parameters=parameters,
                Capabilities=CAPABILITIES, **template)["Id"]
        except ClientError as error:
            if any(text in str(error) for text in NO_CHANGES):
                return StackChange(stack, "none")
            raise DeployError(f"stack {stack}: {error.response['Error']['Message']}") from error
        description = self._wait_for_change_set(stack, change_set)
        if description is None:
            return StackChange(stack, "none")
        change = StackChange(stack, change_type.lower(), _changes(description))
        if dry_run:
            self.cloudformation.delete_change_set(ChangeSetName=change_set)
            return change
        started = time.time() - 1
        try:
            self.cloudformation.execute_change_set(ChangeSetName=change_set)
        except ClientError as error:
            raise DeployError(f"stack {stack}: {error.response['Error']['Message']}") from error
        change.status = self._follow_events(stack, started)
        return change

    def _wait_for_change_set(self, stack: str, change_set: str) -> dict[str, Any] | None:
        """The change set (by its id) once created; None when it holds no change (and is deleted)."""
        while True:
            description = self.cloudformation.describe_change_set(ChangeSetName=change_set)
            if description["Status"] == "CREATE_COMPLETE":
                return description
            if description["Status"] == "FAILED":
                reason = description.get("StatusReason", "")
                self.cloudformation.delete_change_set(ChangeSetName=change_set)
                if any(text in reason for text in NO_CHANGES):
                    return None
                raise DeployError(f"stack {stack}: change set failed: {reason}")
            time.sleep(self.poll_seconds)

    def _follow_events(self, stack: str, since: float) -> str:
        seen: set[str] = set()
        while True:
            events = self.cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
            fresh = [event for event in reversed(events)
                     if event["EventId"] not in seen and event["Timestamp"].timestamp() >= since]
            for event in fresh:
                seen.add(event["EventId"])
                reason = event.get("ResourceStatusReason") or ""
                self.report(f"  {stack}  {event['LogicalResourceId'] or stack}  {event['ResourceStatus']}"
                            + (f"  {reason}" if reason else ""))
            status = stack_status(self.cloudformation, stack) or "DELETE_COMPLETE"
            if status.endswith(TERMINAL) and not status.endswith("_IN_PROGRESS"):
                if "ROLLBACK" in status or status.endswith("_FAILED"):
                    raise DeployError(f"stack {stack} is {status}: {failing_resource(events)}")
                return status
            time.sleep(self.poll_seconds)

    def delete(self, stack: str) -> str:
        if stack_status(self.cloudformation, stack) is None:
            return "absent"
        stack_id = self.cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
        started = time.time() - 1
        self.cloudformation.delete_stack(StackName=stack_id)
        return self._follow_events(stack_id, started)


def failing_resource(events: list[dict[str, Any]]) -> str:
    """The first resource that failed, with CloudFormation's reason (events are newest first)."""
    for event in reversed(events):
        if event["ResourceStatus"].endswith("_FAILED") and event.get("ResourceStatusReason"):
            return (f"{event['LogicalResourceId']} ({event.get('ResourceType', '')}): "
                    f"{event['ResourceStatusReason']}")
    return "no resource reported a failure"
