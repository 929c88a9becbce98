"""The local Kinesis API: moto's server (`moto.server`, the same library the tests run AWS on)
in a background process on the loopback port of the profile's `kinesis_endpoint_url`.

Moto keeps the stream in the server's memory: records last as long as the server (stop it and
they are gone, as after the stream's retention period on AWS). What the deliverer has written
to the raw zone stays. The server's pid and port are kept in the lake's meta location
(`stream/server.json`), its output in `stream/server.log` beside it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from instacart_lake import storage
from instacart_lake.aws_clients import kinesis_client
from instacart_lake.context import Lake
from instacart_lake.errors import LakeError
from instacart_lake.locations import is_local, uri_to_path
from instacart_lake.runs import utc_now
from instacart_lake.stream.settings import StreamSettings

SERVER_MODULE = "moto.server"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ServerState:
    pid: int
    port: int
    endpoint_url: str
    started_at: str


def _state_uri(lake: Lake) -> str:
    return lake.locations.meta_uri("stream/server.json")


def read_state(lake: Lake) -> ServerState | None:
    uri = _state_uri(lake)
    return ServerState(**json.loads(storage.read_text(uri))) if storage.exists(uri) else None


def _loopback_endpoint(lake: Lake) -> tuple[str, int]:
    endpoint = lake.config.kinesis_endpoint_url
    parsed = urlparse(endpoint or "")
    if parsed.hostname not in ("127.0.0.1", "localhost") or parsed.port is None:
        raise LakeError(f"the local Kinesis server listens on a loopback address: set kinesis_endpoint_url "
                        f"(lake.toml or LAKE_KINESIS_ENDPOINT_URL) to one such as http://127.0.0.1:4567, "
                        f"not {endpoint!r}")
    return endpoint, parsed.port


def _is_server(pid: int) -> bool:
    """Whether `pid` is a live moto server (and not another process that took its number)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return SERVER_MODULE.encode() in command


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ensure_stream(client, settings: StreamSettings) -> None:
    """Create the data stream with its shard count unless it exists, and wait until it is active."""
    try:
        client.create_stream(StreamName=settings.stream_name, ShardCount=settings.shard_count)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    client.get_waiter("stream_exists").wait(StreamName=settings.stream_name,
                                            WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def start_server(lake: Lake, settings: StreamSettings) -> tuple[ServerState, bool]:
    """Start the server in the background and create the stream; returns its state and whether
    it was started now (False: it was already running)."""
    endpoint, port = _loopback_endpoint(lake)
    running = read_state(lake)
    if running is not None and _is_server(running.pid):
        return running, False
    if _port_open(port):
        raise LakeError(f"port {port} of {endpoint} is taken by another program; choose another port with "
                        "LAKE_KINESIS_ENDPOINT_URL")
    log_uri = lake.locations.meta_uri("stream/server.log")
    output = subprocess.DEVNULL
    if is_local(log_uri):
        log_path = Path(uri_to_path(log_uri))
        log_path.parent.mkdir(parents=True, exist_ok=True)
        output = log_path.open("ab")
    process = subprocess.Popen([sys.executable, "-m", SERVER_MODULE, "-H", "127.0.0.1", "-p", str(port)],
                               stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise LakeError(f"the local Kinesis server did not start on port {port} (see {log_uri})")
        time.sleep(0.1)
    state = ServerState(process.pid, port, endpoint, utc_now())
    storage.write_text_atomic(_state_uri(lake), json.dumps(asdict(state), indent=1))
    ensure_stream(kinesis_client(lake.config), settings)
    return state, True


def stop_server(lake: Lake) -> ServerState | None:
    """Stop the server that `start_server` started; None when none was running."""
    state = read_state(lake)
    if state is None:
        return None
    if _is_server(state.pid):
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while _is_server(state.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _is_server(state.pid):
            os.kill(state.pid, signal.SIGKILL)
    storage.delete(_state_uri(lake))
    return state
