"""A small client for the parts of Moonraker's HTTP API that the flash needs."""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

DEFAULT_URL = "http://localhost:7125"
# Moonraker is local: never send its requests through an http_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MoonrakerUnavailable(Exception):
    """Nothing that speaks Moonraker's API answers at the URL."""


class MoonrakerError(Exception):
    """Moonraker answered, with an error."""


@dataclass
class Moonraker:
    """Moonraker at `url`; queries wait `timeout` seconds, service actions `action_timeout`."""

    url: str = DEFAULT_URL
    timeout: float = 3.0
    action_timeout: float = 30.0

    def system_info(self) -> dict[str, Any]:
        """`system_info`: instance_ids, available_services and service_state among others."""
        info = self._call("GET", "/machine/system_info", {}, self.timeout)
        system_info = info.get("system_info") if isinstance(info, dict) else None
        if not isinstance(system_info, dict):
            raise MoonrakerUnavailable(f"{self.url} answered, but not like Moonraker")
        return system_info

    def print_state(self) -> str:
        """print_stats.state: printing, paused, standby, complete, cancelled or error."""
        result = self._call("GET", "/printer/objects/query", {"print_stats": ""}, self.timeout)
        try:
            return str(result["status"]["print_stats"]["state"])
        except (KeyError, TypeError):
            raise MoonrakerError("print_stats has no state") from None

    def stop_service(self, service: str) -> None:
        self._service_action("stop", service)

    def start_service(self, service: str) -> None:
        self._service_action("start", service)

    def _service_action(self, action: str, service: str) -> None:
        result = self._call("POST", f"/machine/services/{action}", {"service": service}, self.action_timeout)
        if result != "ok":
            raise MoonrakerError(f"{action} {service}: unexpected answer {result!r}")

    def _call(self, method: str, path: str, query: dict[str, str], timeout: float) -> Any:
        url = self.url.rstrip("/") + path
        if query:
            url += "?" + "&".join(k if not v else f"{k}={urllib.parse.quote(v)}" for k, v in query.items())
        request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as err:
            raise MoonrakerError(f"{method} {path}: HTTP {err.code} {_error_message(err)}") from None
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as err:
            raise MoonrakerUnavailable(f"{self.url} does not answer ({getattr(err, 'reason', err)})") from None
        except ValueError:
            raise MoonrakerUnavailable(f"{self.url} answered, but not with JSON") from None
        if not isinstance(body, dict) or "result" not in body:
            raise MoonrakerUnavailable(f"{self.url} answered, but not like Moonraker")
        return body["result"]


def _error_message(err: urllib.error.HTTPError) -> str:
    """Moonraker's {"error": {"message": ...}}, else the HTTP reason."""
    try:
        return str(json.load(err)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return str(err.reason)
