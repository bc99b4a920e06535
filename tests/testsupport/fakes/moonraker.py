"""Moonraker on 127.0.0.1: system_info, print_stats and machine/services/stop|start, answering as
the real one does ({"result": ...}, errors as {"error": {"code", "message"}}). The services it
manages are the fake systemd's units, so stopping through it really ends the fake Klipper.

state.json "moonraker": {"instance": "klipper", "available": [...], "print_state": "standby",
"refuse": {"stop": "message"}, "ignore_stop": false, "action_delay": seconds}.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import fakesys

DEFAULTS = {"instance": "klipper", "available": ["klipper", "klipper_mcu", "moonraker"], "print_state": "standby"}


class FakeMoonraker:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _config(state: dict) -> dict:
    return {**DEFAULTS, **state.get("moonraker", {})}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path, query = self._target()
        if path == "/machine/system_info":
            self._system_info()
        elif path == "/printer/objects/query" and "print_stats" in query:
            self._print_stats()
        else:
            self._send(404, error="Not Found")

    def do_POST(self) -> None:
        path, query = self._target()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if body and self.headers.get("Content-Type", "").startswith("application/json"):
            query.update({k: [v] for k, v in json.loads(body).items()})
        action = path.removeprefix("/machine/services/")
        if action not in ("stop", "start", "restart") or path == action:
            self._send(404, error="Not Found")
            return
        service = (query.get("service") or [""])[0]
        fakesys.log(f"moonraker {action} {service}")
        time.sleep(_config(fakesys.read_state()).get("action_delay", 0))
        with fakesys.state() as state:
            config = _config(state)
            if not service:
                self._send(400, error="No data for argument: service")
                return
            if service not in config["available"]:
                self._send(400, error=f"Service '{service}' not allowed")
                return
            if action in config.get("refuse", {}):
                self._send(500, error=config["refuse"][action])
                return
            unit = state["units"][f"{service}.service"]
            if action == "stop" and not config.get("ignore_stop"):
                fakesys.stop_unit(unit)
            elif action == "start":
                fakesys.start_unit(unit)
        self._send(200, result="ok")

    def _system_info(self) -> None:
        state = fakesys.read_state()
        config = _config(state)
        services = {
            name.removesuffix(".service"): {"active_state": unit["state"],
                                            "sub_state": "running" if unit["state"] == "active" else "dead"}
            for name, unit in state["units"].items()
            if name.removesuffix(".service") in config["available"]
        }
        self._send(200, result={"system_info": {
            "provider": "systemd_cli",
            "available_services": config["available"],
            "instance_ids": {"moonraker": "moonraker", "klipper": config["instance"]},
            "service_state": services,
        }})

    def _print_stats(self) -> None:
        state = fakesys.read_state()
        config = _config(state)
        if state["units"].get(f"{config['instance']}.service", {}).get("state") != "active":
            self._send(503, error="Klippy Disconnected")
            return
        self._send(200, result={"eventtime": 1234.5, "status": {"print_stats": {
            "state": config["print_state"], "filename": "benchy.gcode"}}})

    def _target(self) -> tuple[str, dict[str, list[str]]]:
        url = urllib.parse.urlsplit(self.path)
        return url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)

    def _send(self, status: int, result: object = None, error: str | None = None) -> None:
        body = {"result": result} if error is None else {"error": {"code": status, "message": error}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
