"""Moonraker on 127.0.0.1 and on its Unix socket, answering as the real one does.

Derived from Arksine/moonraker d5ee17128bb88434aacdab90c2e9e990e2b64e4a:
- authorization is a core component: every HTTP request from an address not in trusted_clients
  (or any, with force_logins) needs the API key in the X-Api-Key header (no query parameter), else 401 with
  {"error": {"code": 401, "message": "Unauthorized", "traceback": ...}}, never 403
  (components/authorization.py:850-896, components/application.py:531-537);
- the Unix socket speaks JSON-RPC 2.0, every message ends with ETX (0x03), and needs no
  authorization (components/extensions.py:160-208, common.py:353, 435-442); errors are
  {"code", "message"} with 404 -> -32601 and 401 -> -32602 (common.py:781-889);
- /printer/objects/query is registered once Klippy first connects: 404 before, 503 "Klippy Host
  not connected" after a disconnect (klippy_connection.py:387-397, 605-607);
- instance_ids.klipper is "klipper" until Klippy has connected once (klippy_connection.py:139-143);
- [machine] provider systemd_cli runs `sudo systemctl <action> <service>` with a 2 s timeout and
  answers 500 "Error running shell command: ..." on a timeout (after SIGTERM and 0.5 s) or a
  failure, while a queued stop job goes on (machine.py:497-509, 998-1002, shell_command.py:228-280);
- services are allowed when they start with klipper/moonraker or are in moonraker.asvc, available
  when detected at startup; others get 400 "Service '<name>' not allowed" (machine.py:246-251,
  334-349, 1040-1057); service_state is a cache refreshed every 2 s (machine.py:1063-1065).

- every Moonraker detects every unit `systemctl list-units` shows whose name matches
  klipper[_-]?N or moonraker[_-]?N, so on a host with several printers each lists every Klipper unit; its own
  Klippy is the one whose socket it connects to (moonraker.conf [server] klippy_uds_address,
  default /tmp/klippy_uds), and instance_ids.klipper is that Klippy's unit, found from the socket
  peer's pid (machine.py:246-251, 340-360, 1040-1057; klippy_connection.py:60-75, 137-143, 342-350);
- /server/info gives klippy_connected and klippy_state (disconnected, startup, ready, error,
  shutdown: common.py:138-143), /server/config the parsed configuration (server.py:510-553);
- after an emergency stop or an MCU error Klippy is "shutdown" and keeps an interrupted print
  "paused" (virtual_sdcard's shutdown handler pauses it); the `webhooks` object carries that state
  and its message.

state.json "moonraker" (or the key named by `name`, one per Moonraker on a host with several):
{"instance": unit Klippy runs under (default "klipper"), "klippy": "never" (it never connects),
"startup" (connected, no print_stats yet), "shutdown" or "error" (with "message"), "available":
[...] (else detected at the first request, which stands for Moonraker's start), "print_state":
"standby", "trusted": true, "force_logins": false (401 even when trusted), "api_key": null,
"sudo": rights of Moonraker's own sudo (default: the user's), "action_delay": seconds before an
action, "uds": its klippy_uds_address, "port": its [server] port}.

systemd_cli's 2 s limit is applied by what it stands for, not by the clock: a `sudo systemctl`
whose unit takes longer than SHELL_TIMEOUT to stop (its "stop_delay") is cancelled once it has
queued the stop job, as the real timeout would; any other runs to its end however slow the
machine is, so a loaded test machine never turns a quick stop into a timeout.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import fakesys

DEFAULTS = {"instance": "klipper", "print_state": "standby", "trusted": True, "api_key": None}
SHELL_TIMEOUT = 2.0  # Machine.exec_sudo_command(timeout=2.)
TRACEBACK = "Traceback (most recent call last):\n  ...\ntornado.web.HTTPError: HTTP 401: Unauthorized\n"
_ALLOWED = re.compile(r"moonraker[_-]?\d*|klipper[_-]?\d*")  # re.match: anchored at the start only


class RpcError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FakeMoonraker:
    """The HTTP API on loopback (`url`) and, if `socket_path` is given, the Unix socket."""

    def __init__(self, socket_path: Path | None = None, poll: float = 2.0, name: str = "moonraker") -> None:
        self.core = _Core(poll, name)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.core = self.core  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.requests: list[dict] = []  # headers and paths the HTTP side saw
        self.server.seen = self.requests  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        self.socket_path = socket_path
        self._unix: socket.socket | None = None
        if socket_path:
            socket_path.parent.mkdir(parents=True, exist_ok=True)
            self._unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._unix.bind(str(socket_path))
            self._unix.listen()
            threading.Thread(target=self._serve_unix, daemon=True).start()

    def close(self) -> None:
        self.core.stop.set()
        self.server.shutdown()
        self.server.server_close()
        if self._unix:
            self._unix.close()
            self.socket_path.unlink(missing_ok=True)

    def _serve_unix(self) -> None:
        while True:
            try:
                client, _ = self._unix.accept()
            except OSError:
                return
            threading.Thread(target=self._unix_client, args=(client,), daemon=True).start()

    def _unix_client(self, client: socket.socket) -> None:
        buffer = b""
        with client:
            while True:
                try:
                    chunk = client.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while b"\x03" in buffer:
                    raw, buffer = buffer.split(b"\x03", 1)
                    reply = self.core.rpc(raw)
                    if reply is not None:
                        client.sendall(json.dumps(reply).encode() + b"\x03")


class _Core:
    """What both transports share: Klippy's connection, the service cache, the actions."""

    def __init__(self, poll: float, name: str) -> None:
        self.name = name
        self.ever_connected = False
        self.available: list[str] | None = None
        self.service_state: dict[str, dict[str, str]] = {}
        self.stop = threading.Event()
        self.poll = poll
        self.lock = threading.Lock()
        threading.Thread(target=self._poll_states, daemon=True).start()

    def config(self) -> dict:
        return {**DEFAULTS, **fakesys.read_state().get(self.name, {})}

    def services(self, detect: bool = True) -> list[str]:
        config = self.config()
        with self.lock:
            if "available" in config:
                return list(config["available"])
            if self.available is None and not detect:
                return []
            if self.available is None:  # detected once, when Moonraker starts
                units = fakesys.read_state()["units"]
                self.available = sorted(n.removesuffix(".service") for n in units
                                        if _ALLOWED.match(n.removesuffix(".service")))
            return list(self.available)

    def klippy_connected(self) -> bool:
        config = self.config()
        unit = fakesys.read_state()["units"].get(f"{config['instance']}.service", {})
        connected = config.get("klippy") != "never" and unit.get("state") == "active"
        self.ever_connected = self.ever_connected or connected
        return connected

    def _poll_states(self) -> None:
        while not self.stop.is_set():
            try:
                self._refresh()
            except (OSError, ValueError, SystemExit):  # the test's directory is gone
                return
            self.stop.wait(self.poll)

    def _refresh(self) -> None:
        """`systemctl show -p ActiveState,SubState --value` of the available services."""
        units = fakesys.read_state()["units"]
        states = {}
        for name in self.services(detect=False):
            state = units.get(f"{name}.service", {}).get("state", "inactive")
            states[name] = {"active_state": state, "sub_state": "running" if state == "active" else "dead"}
        self.service_state = states
        self.klippy_connected()

    def system_info(self) -> dict:
        self.klippy_connected()
        if not self.service_state:  # the first poll after Moonraker's start
            self.services()
            self._refresh()
        instance = self.config()["instance"] if self.ever_connected else "klipper"
        return {"system_info": {
            "provider": "systemd_cli",
            "available_services": self.services(),
            "service_state": self.service_state,
            "instance_ids": {"moonraker": self.name, "klipper": instance},
        }}

    def klippy_state(self) -> str:
        if not self.klippy_connected():
            return "disconnected"
        said = self.config().get("klippy")
        return said if said in ("startup", "shutdown", "error") else "ready"

    def server_info(self) -> dict:
        return {"klippy_connected": self.klippy_connected(), "klippy_state": self.klippy_state(),
                "components": ["machine", "klippy_connection"], "failed_components": [], "warnings": [],
                "moonraker_version": "v0.9.3-fake", "api_version": [1, 5, 0], "api_version_string": "1.5.0"}

    def server_config(self) -> dict:
        config = self.config()
        server = {"host": "0.0.0.0", "port": config.get("port", 7125),
                  "klippy_uds_address": config.get("uds", "/tmp/klippy_uds")}
        return {"config": {"server": server}, "orig": {"server": dict(server)}, "files": []}

    def query(self, objects: list[str]) -> dict:
        """printer.objects.query: print_stats and webhooks (Klipper answers {} for others)."""
        connected = self.klippy_connected()
        if not self.ever_connected:
            raise RpcError(404, "Not Found")
        if not connected:
            raise RpcError(503, "Klippy Host not connected")
        config, state = self.config(), self.klippy_state()
        messages = {"ready": "Printer is ready", "startup": "Printer is not ready\nThe klippy host software is "
                    "attempting to connect.", "shutdown": config.get("message", "Shutdown due to M112 command"),
                    "error": config.get("message", "Config error")}
        available = {
            "webhooks": {"state": state, "state_message": messages[state]},
            # no print_stats object during startup: {} (webhooks.py:505-508)
            "print_stats": {} if state == "startup" else {
                "state": config["print_state"], "filename": "benchy.gcode", "message": ""},
        }
        return {"eventtime": 1234.5, "status": {name: available.get(name, {}) for name in objects}}

    def service_action(self, action: str, service: str) -> str:
        fakesys.log(f"moonraker {action} {service}")
        config = self.config()
        time.sleep(config.get("action_delay", 0))
        if not service:
            raise RpcError(400, "No data for argument: service")
        if service == "moonraker" and action != "restart":
            raise RpcError(400, f"Service action '{action}' not available for moonraker")
        if service not in self.services():
            raise RpcError(400, f"Service '{service}' not allowed")
        command = ["sudo", "systemctl", action, service]
        env = {**os.environ, "FAKE_CALLER": "moonraker"}
        if config.get("sudo"):
            env["FAKE_SUDO_RIGHTS"] = config["sudo"]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=env)
        if not self._times_out(action, service, process):
            failed = process.wait() != 0
        else:  # ShellCommand.cancel: SIGTERM, 2 s, SIGKILL; then 0.5 s
            process.terminate()
            try:
                process.wait(2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            time.sleep(0.5)
            failed = True
        if failed:
            raise RpcError(500, f"Error running shell command: '{' '.join(command)}'")
        return "ok"

    def _times_out(self, action: str, service: str, process: subprocess.Popen) -> bool:
        """Whether systemd_cli's 2 s limit cuts this command short: only a stop slower than it, and
        only once the job is queued (the unit is deactivating) or the command has ended."""
        unit = fakesys.read_state()["units"].get(f"{service}.service", {})
        if action != "stop" or unit.get("state") != "active" or unit.get("stop_delay", 0) <= SHELL_TIMEOUT:
            return False
        while process.poll() is None and fakesys.read_state()["units"][f"{service}.service"]["state"] == "active":
            time.sleep(0.02)
        return process.poll() is None

    def rpc(self, raw: bytes) -> dict | None:
        """One JSON-RPC request from the socket; None for a notification (no id)."""
        try:
            request = json.loads(raw)
        except ValueError:
            return {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
        request_id = request.get("id")
        if request.get("jsonrpc") != "2.0":
            return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": request_id}
        method, params = request.get("method"), request.get("params", {})
        try:
            if method == "machine.system_info":
                result = self.system_info()
            elif method == "server.info":
                result = self.server_info()
            elif method == "server.config":
                result = self.server_config()
            elif method == "printer.objects.query":
                result = self.query(list((params.get("objects") or {}).keys()))
            elif method in ("machine.services.stop", "machine.services.start", "machine.services.restart"):
                result = self.service_action(method.rsplit(".", 1)[1], str(params.get("service", "")))
            else:
                raise RpcError(404, "Method not found")
        except RpcError as err:
            code = {404: -32601, 401: -32602}.get(err.status, err.status)
            message = "Method not found" if code == -32601 else err.message
            return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": request_id}
        return None if request_id is None else {"jsonrpc": "2.0", "result": result, "id": request_id}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    @property
    def core(self) -> _Core:
        return self.server.core  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer("POST")

    def _answer(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.server.seen.append({"path": self.path, "headers": dict(self.headers)})  # type: ignore[attr-defined]
        config = self.core.config()
        keyed = bool(config["api_key"]) and self.headers.get("X-Api-Key") == config["api_key"]
        if not keyed and (not config["trusted"] or config.get("force_logins")):
            self._send(401, error="Unauthorized", traceback=TRACEBACK)
            return
        try:
            if method == "GET" and url.path == "/machine/system_info":
                result = self.core.system_info()
            elif method == "GET" and url.path == "/server/info":
                result = self.core.server_info()
            elif method == "GET" and url.path == "/server/config":
                result = self.core.server_config()
            elif method == "GET" and url.path == "/printer/objects/query":
                result = self.core.query(list(query.keys()))
            elif method == "POST" and url.path in ("/machine/services/stop", "/machine/services/start",
                                                   "/machine/services/restart"):
                result = self.core.service_action(url.path.rsplit("/", 1)[1], (query.get("service") or [""])[0])
            else:
                raise RpcError(404, "Not Found")
        except RpcError as err:
            self._send(err.status, error=err.message, traceback="Traceback (most recent call last):\n  ...\n")
            return
        self._send(200, result=result)

    def _send(self, status: int, result: object = None, error: str | None = None, traceback: str = "") -> None:
        body = {"result": result} if error is None else {
            "error": {"code": status, "message": error, "traceback": traceback}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
