"""The project's error types. A LakeError is a user-facing problem: the CLI prints its message
on one line and exits non-zero, with no stack trace."""


class LakeError(Exception):
    """A problem the user can fix: bad input, a missing folder, a refused file."""


class InputError(LakeError):
    """Bad input data, with the file and line where it is."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.line = line


class QualityGateFailed(LakeError):
    """A data-quality rule with the stop action failed; nothing was committed."""
