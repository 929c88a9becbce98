"""Deployment: the CloudFormation templates of cloudformation/ (written by `make templates`
where their facts live elsewhere in the repository), the packages `lake deploy` uploads, and
the stacks it creates or updates in order."""
