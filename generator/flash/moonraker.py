"""A small client for the parts of Moonraker's API that the flash needs, over its Unix socket
(JSON-RPC, no authorization: Moonraker trusts local socket clients) or over HTTP (with an
optional API key in the X-Api-Key header, the only place Moonraker reads one).

The API key is a secret: it is sent in that header and never put in a message, a log or a repr.
"""
from __future__ import annotations

import http.client
import itertools
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import FirmwareError
from generator.flash import DEFAULT_URL

ETX = b"\x03"  # Moonraker's Unix socket ends every JSON-RPC message with it (not a newline)
# Moonraker is local: never send its requests through an http_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# JSON-RPC codes Moonraker gives HTTP statuses over its socket (common.py: 404 -> -32601, 401 -> -32602)
_RPC_STATUS = {-32601: 404, -32602: 401}


def default_socket() -> Path:
    """Where Moonraker puts its socket on a default install: <data_path>/comms/moonraker.sock."""
    return Path.home() / "printer_data" / "comms" / "moonraker.sock"


class MoonrakerUnavailable(Exception):
    """Nothing that speaks Moonraker's API answers there."""


class MoonrakerError(Exception):
    """Moonraker answered, with an error: `status` is its HTTP status (401, 404, 500, 503, ...)."""

    def __init__(self, status: int, message: str, what: str, label: str = "HTTP", keyed: bool = False) -> None:
        super().__init__(f"{what}: {label} {status} {message}" if status else f"{what}: {message}")
        self.status = status
        self.message = message
        self.keyed = keyed  # the request carried an API key

    @property
    def refused(self) -> bool:
        """Moonraker is there and does not let us in (no key, wrong key, untrusted address)."""
        return self.status in (401, 403)


def check_url(url: str, option: str) -> str:
    """`url` if it is an http(s) URL with a host; else a FirmwareError naming `option`."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as err:
        raise FirmwareError(f"{option} {url!r} is not a valid URL ({err})",
                            f"give it as http://HOST:PORT, e.g. {DEFAULT_URL}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FirmwareError(f"{option} {url!r} is not a valid URL (it needs http:// or https:// and a host)",
                            f"give it as http://HOST:PORT, e.g. {DEFAULT_URL}")
    return url.strip()


def connect(url: str, socket_path: Path | None, api_key: str | None) -> Moonraker:
    """The Moonraker to ask: the socket named, else the default socket when it is there and no
    other URL was given (a second printer's Moonraker is named by its URL), else HTTP at `url`."""
    if socket_path is not None:
        if not socket_path.expanduser().exists():
            raise FirmwareError(f"Moonraker socket {socket_path} does not exist",
                                "give the socket of the printer's Moonraker (<data_path>/comms/moonraker.sock) "
                                "with --moonraker-socket / custom_moonraker_socket, or leave it out to use HTTP")
        return Moonraker(url, api_key, socket_path.expanduser())
    if url.rstrip("/") == DEFAULT_URL and default_socket().exists():
        return Moonraker(url, api_key, default_socket())
    return Moonraker(url, api_key)


@dataclass(frozen=True)
class PrintStatus:
    """What a print is doing (print_stats.state: printing, paused, standby, complete, cancelled,
    error) and what Klippy is doing (webhooks.state: ready, startup, shutdown, error)."""

    state: str
    klippy: str
    message: str


@dataclass
class Moonraker:
    """Moonraker at `url` (HTTP) or at the Unix socket `socket_path`; queries wait `timeout`
    seconds, service actions `action_timeout`."""

    url: str = DEFAULT_URL
    api_key: str | None = field(default=None, repr=False)
    socket_path: Path | None = None
    timeout: float = 3.0
    action_timeout: float = 30.0

    @property
    def where(self) -> str:
        """How it is reached, for messages (never the key)."""
        if self.socket_path:
            return f"its socket {self.socket_path}"
        return self.url + (" with an API key" if self.api_key else "")

    def system_info(self) -> dict[str, Any]:
        """`system_info`: instance_ids, available_services and service_state among others. A 404
        here means that what answers is not Moonraker (Moonraker always serves this path)."""
        try:
            info = self._call("GET", "/machine/system_info", "machine.system_info", {}, self.timeout)
        except MoonrakerError as err:
            if err.status != 404:
                raise
            raise MoonrakerUnavailable(f"{self.where} answered 404 to /machine/system_info, which every "
                                       "Moonraker serves: it is some other server, not Moonraker") from None
        system_info = info.get("system_info") if isinstance(info, dict) else None
        if not isinstance(system_info, dict):
            raise MoonrakerUnavailable(f"{self.where} answered, but not like Moonraker")
        return system_info

    def klippy_state(self) -> str:
        """server.info's klippy_state: disconnected, startup, ready, error or shutdown."""
        info = self._call("GET", "/server/info", "server.info", {}, self.timeout)
        return str(info.get("klippy_state", "unknown")) if isinstance(info, dict) else "unknown"

    def klippy_socket(self) -> Path | None:
        """The Klippy socket this Moonraker connects to ([server] klippy_uds_address), if it says."""
        try:
            config = self._call("GET", "/server/config", "server.config", {}, self.timeout)
            address = config["config"]["server"]["klippy_uds_address"]
        except (MoonrakerError, MoonrakerUnavailable, KeyError, TypeError):
            return None
        return Path(str(address)).expanduser() if address else None

    def print_status(self) -> PrintStatus:
        """print_stats.state with Klippy's own state (the webhooks object)."""
        status = self._query("print_stats", "webhooks")
        try:
            return PrintStatus(str(status["print_stats"]["state"]), *self._webhooks(status))
        except (KeyError, TypeError):  # {} while Klippy starts up or is in an error state
            raise MoonrakerError(0, "print_stats has no state (Klippy is not ready)", "print state") from None

    def klippy_message(self) -> str:
        """Klippy's own word on its state (webhooks.state_message), e.g. why it shut down."""
        return self._webhooks(self._query("webhooks"))[1]

    def _query(self, *objects: str) -> dict[str, Any]:
        result = self._call("GET", "/printer/objects/query?" + "&".join(objects), "printer.objects.query",
                            {"objects": dict.fromkeys(objects)}, self.timeout)
        status = result.get("status") if isinstance(result, dict) else None
        return status if isinstance(status, dict) else {}

    @staticmethod
    def _webhooks(status: dict[str, Any]) -> tuple[str, str]:
        webhooks = status.get("webhooks")
        if not isinstance(webhooks, dict):
            return "unknown", ""
        return str(webhooks.get("state", "unknown")), str(webhooks.get("state_message", "")).strip()

    def stop_service(self, service: str) -> None:
        self._service_action("stop", service)

    def start_service(self, service: str) -> None:
        self._service_action("start", service)

    def _service_action(self, action: str, service: str) -> None:
        path = f"/machine/services/{action}?service={urllib.parse.quote(service)}"
        result = self._call("POST", path, f"machine.services.{action}", {"service": service}, self.action_timeout)
        if result != "ok":
            raise MoonrakerError(0, f"unexpected answer {result!r}", f"{action} {service}")

    def _call(self, method: str, path: str, rpc: str, params: dict[str, Any], timeout: float) -> Any:
        if self.socket_path:
            return self._rpc(rpc, params, timeout)
        return self._http(method, path, timeout)

    def _http(self, method: str, path: str, timeout: float) -> Any:
        what = f"{method} {path.split('?')[0]}"
        headers = {"X-Api-Key": self.api_key} if self.api_key else {}
        request = urllib.request.Request(self.url.rstrip("/") + path, method=method, headers=headers,
                                         data=b"" if method == "POST" else None)
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as err:
            raise MoonrakerError(err.code, _error_message(err), what, keyed=bool(self.api_key)) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            raise MoonrakerUnavailable(f"{self.url} does not answer ({getattr(err, 'reason', err)})") from None
        except ValueError:
            raise MoonrakerUnavailable(f"{self.url} answered, but not with JSON") from None
        if not isinstance(body, dict) or "result" not in body:
            raise MoonrakerUnavailable(f"{self.url} answered, but not like Moonraker")
        return body["result"]

    def _rpc(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        """One JSON-RPC request over the socket, framed with ETX both ways."""
        request_id = next(_IDS)
        message = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": request_id})
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(str(self.socket_path))
                sock.sendall(message.encode() + ETX)
                reply = _read_message(sock, request_id)
        except PermissionError as err:
            raise MoonrakerError(403, f"no permission to use the socket ({err.strerror})", method) from None
        except (OSError, ValueError) as err:
            raise MoonrakerUnavailable(f"{self.where} does not answer ({err})") from None
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            code = int(error.get("code", 500))
            raise MoonrakerError(_RPC_STATUS.get(code, code), str(error.get("message", "")), method, "error")
        return reply.get("result")


_IDS = itertools.count(1)


def _read_message(sock: socket.socket, request_id: int) -> dict[str, Any]:
    """The reply with our id (Moonraker may push notifications first)."""
    buffer = b""
    while True:
        while ETX not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ValueError("the socket closed before the reply")
            buffer += chunk
        raw, buffer = buffer.split(ETX, 1)
        message = json.loads(raw)
        if isinstance(message, dict) and message.get("id") == request_id:
            return message


def _error_message(err: urllib.error.HTTPError) -> str:
    """Moonraker's {"error": {"message": ...}} (it may add a traceback), else the HTTP reason."""
    try:
        return str(json.load(err)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return str(err.reason)
