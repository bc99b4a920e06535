"""The Moonraker client against a real HTTP server on loopback: answers, errors, and silence."""
from __future__ import annotations

import http.server
import re
import threading

import pytest

from generator.errors import FirmwareError
from generator.flash.moonraker import Moonraker, MoonrakerError, MoonrakerUnavailable, check_url
from testsupport.fakes.fixtures import *  # noqa: F403 - the fixtures
from testsupport.fakes.fixtures import FakeSystem
from testsupport.fakes.moonraker import FakeMoonraker


def test_system_info_and_print_state(fake_system: FakeSystem, moonraker: FakeMoonraker) -> None:
    fake_system.add_unit("klipper-1.service")
    fake_system.configure(moonraker={"instance": "klipper-1", "available": ["klipper-1"], "print_state": "paused"})
    client = Moonraker(moonraker.url)
    assert client.print_status().state == "paused"
    info = client.system_info()
    assert info["instance_ids"]["klipper"] == "klipper-1"
    assert info["service_state"]["klipper-1"]["active_state"] == "active"
    assert client.print_status().state == "paused"


def test_stop_and_start_change_the_unit(fake_system: FakeSystem, moonraker: FakeMoonraker) -> None:
    fake_system.add_unit("klipper.service")
    client = Moonraker(moonraker.url)
    client.stop_service("klipper")
    assert fake_system.unit("klipper.service")["state"] == "inactive"
    client.start_service("klipper")
    assert fake_system.unit("klipper.service")["state"] == "active"
    assert fake_system.steps() == [  # what systemd_cli runs
        "moonraker stop klipper", "sudo systemctl stop klipper [nopasswd] (moonraker)",
        "systemctl stop klipper [root] (moonraker)",
        "moonraker start klipper", "sudo systemctl start klipper [nopasswd] (moonraker)",
        "systemctl start klipper [root] (moonraker)",
    ]


def test_an_error_answer_is_an_error_not_silence(fake_system: FakeSystem, moonraker: FakeMoonraker) -> None:
    fake_system.add_unit("klipper.service")
    fake_system.configure(moonraker={"available": ["moonraker"]})
    with pytest.raises(MoonrakerError, match="HTTP 400 Service 'klipper' not allowed"):
        Moonraker(moonraker.url).stop_service("klipper")


def test_klippy_down_makes_print_state_an_error(fake_system: FakeSystem, moonraker: FakeMoonraker) -> None:
    fake_system.add_unit("klipper.service", state="inactive")
    client = Moonraker(moonraker.url)
    with pytest.raises(MoonrakerError, match="HTTP 404 Not Found") as never:  # Klippy never connected
        client.print_status()
    assert never.value.status == 404
    fake_system.update_unit("klipper.service", state="active")
    assert client.print_status().state == "standby"
    fake_system.update_unit("klipper.service", state="inactive")
    with pytest.raises(MoonrakerError, match="HTTP 503 Klippy Host not connected"):
        client.print_status()


def test_the_socket_answers_without_a_key(fake_system: FakeSystem, moonraker: FakeMoonraker) -> None:
    fake_system.add_unit("klipper.service")
    fake_system.configure(moonraker={"trusted": False, "api_key": "secret"})
    client = Moonraker(socket_path=moonraker.socket_path)
    assert client.print_status().state == "standby"
    with pytest.raises(MoonrakerError, match="400 Service 'nosuch' not allowed"):
        client.stop_service("nosuch")
    client.stop_service("klipper")
    assert fake_system.unit("klipper.service")["state"] == "inactive"
    with pytest.raises(MoonrakerError) as refused:
        Moonraker(moonraker.url).system_info()
    assert refused.value.refused and refused.value.status == 401
    assert Moonraker(moonraker.url, api_key="secret").system_info()["instance_ids"]["klipper"] == "klipper"
    assert moonraker.requests[-1]["headers"]["X-Api-Key"] == "secret"


@pytest.mark.parametrize("url", ["not a url", "http://[::1", "ftp://pi:7125", "http://:7125", "http://pi:port"])
def test_a_malformed_url_is_a_clear_error(url: str) -> None:
    with pytest.raises(FirmwareError, match=f"--moonraker {re.escape(repr(url))} is not a valid URL") as bad:
        check_url(url, "--moonraker")
    assert "http://HOST:PORT" in bad.value.hint


def test_nothing_listening_is_unavailable(no_moonraker: str) -> None:
    with pytest.raises(MoonrakerUnavailable, match="does not answer"):
        Moonraker(no_moonraker).system_info()


def test_a_server_that_never_answers_times_out_quickly() -> None:
    release = threading.Event()

    class Stuck(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(5)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stuck)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        with pytest.raises(MoonrakerUnavailable):
            Moonraker(f"http://127.0.0.1:{server.server_address[1]}", timeout=0.3).system_info()
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_something_else_on_the_port_is_not_moonraker() -> None:
    class Other(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>octoprint</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Other)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        with pytest.raises(MoonrakerUnavailable, match="not with JSON"):
            Moonraker(f"http://127.0.0.1:{server.server_address[1]}").system_info()
    finally:
        server.shutdown()
        server.server_close()


def test_proxy_settings_do_not_apply(
    fake_system: FakeSystem, moonraker: FakeMoonraker, monkeypatch: pytest.MonkeyPatch, no_moonraker: str,
) -> None:
    monkeypatch.setenv("http_proxy", no_moonraker)
    monkeypatch.setenv("no_proxy", "")
    assert "instance_ids" in Moonraker(moonraker.url).system_info()
