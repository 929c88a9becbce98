"""The object layout Firehose writes to S3: the configured prefix with its `!{timestamp:...}` and
`!{firehose:...}` expressions evaluated at the arrival time of the object's oldest record, then
`<delivery stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<random string>`, then `.gz` for GZIP."""

from __future__ import annotations

import datetime as dt
import re

from instacart_lake.errors import LakeError

DELIVERY_STREAM_VERSION = 1
GZIP_EXTENSION = ".gz"
_EXPRESSION = re.compile(r"!\{(timestamp|firehose):([^}]*)\}")
_JAVA_TO_STRFTIME = (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"))


def _timestamp(pattern: str, moment: dt.datetime) -> str:
    """A Java DateTimeFormatter pattern (the letters Firehose prefixes use) at `moment` (UTC)."""
    converted = pattern
    for java, strftime in _JAVA_TO_STRFTIME:
        converted = converted.replace(java, strftime)
    if re.search(r"[A-Za-z]", re.sub(r"%[YmdHMS]", "", converted)):
        raise LakeError(f"prefix expression !{{timestamp:{pattern}}}: only yyyy, MM, dd, HH, mm and ss are supported")
    return moment.astimezone(dt.timezone.utc).strftime(converted)


def expand_prefix(prefix: str, moment: dt.datetime, random_string: str, error_output_type: str | None = None) -> str:
    def value(match: re.Match) -> str:
        namespace, name = match.groups()
        if namespace == "timestamp":
            return _timestamp(name, moment)
        if name == "random-string":
            return random_string
        if name == "error-output-type" and error_output_type is not None:
            return error_output_type
        raise LakeError(f"prefix expression !{{firehose:{name}}} is not one Firehose evaluates here")

    return _EXPRESSION.sub(value, prefix)


def object_key(prefix: str, delivery_stream: str, moment: dt.datetime, random_string: str,
               error_output_type: str | None = None) -> str:
    """The key of a delivered object (under the raw bucket)."""
    stamp = moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
    return (f"{expand_prefix(prefix, moment, random_string, error_output_type)}"
            f"{delivery_stream}-{DELIVERY_STREAM_VERSION}-{stamp}-{random_string}{GZIP_EXTENSION}")
