#!/usr/bin/env python3
"""Fake systemctl: units live in $FAKE_SYSTEM_DIR/state.json. Accepts only the real grammar for
list-units, is-active, show, start and stop, with systemctl's own messages and exit codes.

`show UNIT -p A,B [--value]` prints `A=...` lines (values only with --value) for MainPID (the
unit's process, 0 when it runs none), User, EnvironmentFiles (`PATH (ignore_errors=no)`) and
ExecStart (`{ path=... ; argv[]=... ; ignore_errors=no ; ... }`, its $VARIABLES unexpanded), in
systemctl's format (not checked against a live systemd: none runs here). A unit's "klippy"
(Klippy's arguments), "environment_file" and "user" make a KIAUH unit: ExecStart
`/home/pi/klippy-env/bin/python $KLIPPER_ARGS`, with KLIPPER_ARGS in the environment file;
without an environment file, the arguments are in ExecStart itself, as Klipper's own
install-*.sh writes it.

A unit with "stop_delay" is "deactivating" that long after a stop (Klipper finishing its
shutdown); systemctl waits for the stop job, which goes on if systemctl is killed, as systemd's
does. Changing a unit needs root: the configuration's "root", or being run by the fake sudo.
"""
import fnmatch
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import fakesys

FLAGS = {"--all", "-a", "--plain", "--no-legend", "--no-pager", "--quiet", "-q", "--full", "-l", "--value"}
PYTHON = "/home/pi/klippy-env/bin/python"


def main(argv: list[str]) -> int:
    options, words, properties = set(), [], []
    args = iter(argv)
    for arg in args:
        if arg.startswith("--property=") or arg in ("-p", "--property"):
            properties += (arg.split("=", 1)[1] if "=" in arg else next(args, "")).split(",")
        elif arg in FLAGS:
            options.add({"-a": "--all", "-q": "--quiet", "-l": "--full"}.get(arg, arg))
        elif arg.startswith("--type=") or arg in ("-t", "--type"):
            kind = arg.split("=", 1)[1] if "=" in arg else next(args, "")
            if kind != "service":
                print(f"fake systemctl: unit type '{kind}' is not emulated", file=sys.stderr)
                return 1
        elif arg.startswith("-"):
            print(f"systemctl: unrecognized option '{arg}'", file=sys.stderr)
            return 1
        else:
            words.append(arg)
    if not words:
        words = ["list-units"]
    verb, names = words[0], [n if "." in n else f"{n}.service" for n in words[1:]]
    fakesys.log(" ".join(["systemctl", *argv]) + (" [root]" if privileged() else "") + fakesys.caller())
    if verb == "list-units":
        return list_units(words[1:], options)
    if verb == "is-active":
        return is_active(names, "--quiet" in options)
    if verb in ("start", "stop"):
        return change(verb, names)
    if verb == "show":
        return show(names, properties, "--value" in options)
    if verb in ("restart", "status", "enable", "disable", "reload", "cat", "daemon-reload"):
        print(f"fake systemctl: verb '{verb}' is not emulated", file=sys.stderr)
        return 1
    print(f"Unknown command verb '{verb}'.", file=sys.stderr)
    return 1


def privileged() -> bool:
    return os.environ.get("FAKE_SUDO") == "1" or fakesys.read_state().get("root", False)


def list_units(patterns: list[str], options: set[str]) -> int:
    units = fakesys.read_state()["units"]
    for name, unit in sorted(units.items()):
        if patterns and not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        if unit["state"] != "active" and "--all" not in options:
            continue
        sub = {"active": "running", "failed": "failed"}.get(unit["state"], "dead")
        print(f"{name} loaded {unit['state']} {sub} {unit.get('description', name)}")
    if "--no-legend" not in options:
        print("\nLegend: LOAD/ACTIVE/SUB ...")
    return 0


def is_active(names: list[str], quiet: bool) -> int:
    if not names:
        print("Too few arguments.", file=sys.stderr)
        return 1
    units = fakesys.read_state()["units"]
    states = [units.get(name, {}).get("state", "inactive") for name in names]
    if not quiet:
        print("\n".join(states))
    return 0 if "active" in states else 3


def show(names: list[str], properties: list[str], value_only: bool) -> int:
    units = fakesys.read_state()["units"]
    for name in names:
        unit = units.get(name, {})
        klippy = [fakesys.KLIPPY, *unit.get("klippy", [])]
        env = unit.get("environment_file")
        argv = f"{PYTHON} $KLIPPER_ARGS" if env else " ".join([PYTHON, *klippy])
        values = {
            "MainPID": str(unit.get("pid") or 0) if unit.get("state") == "active" else "0",
            "User": unit.get("user", ""),
            "EnvironmentFiles": f"{env} (ignore_errors=no)" if env else "",
            "ExecStart": (f"{{ path={PYTHON} ; argv[]={argv} ; ignore_errors=no ; start_time=[n/a] ; "
                          "stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }") if unit else "",
        }
        for prop in properties:
            if prop not in values:
                print(f"fake systemctl: property '{prop}' is not emulated", file=sys.stderr)
                return 1
            if values[prop] or not value_only or prop in ("User",):
                print(values[prop] if value_only else f"{prop}={values[prop]}")
    return 0


def change(verb: str, names: list[str]) -> int:
    if not names:
        print("Too few arguments.", file=sys.stderr)
        return 1
    if not privileged():
        print(f"Failed to {verb} {names[0]}: Interactive authentication required.", file=sys.stderr)
        print(f"See system logs and 'systemctl status {names[0]}' for details.", file=sys.stderr)
        return 1
    slow: list[str] = []
    with fakesys.state() as state:
        for name in names:
            unit = state["units"].get(name)
            if unit is None:
                reason = "not loaded" if verb == "stop" else "not found"
                print(f"Failed to {verb} {name}: Unit {name} {reason}.", file=sys.stderr)
                return 5
            if verb == "stop" and unit.get("stop_delay") and unit["state"] == "active":
                unit["state"] = "deactivating"
                fakesys.stop_later(name, unit["stop_delay"])
                slow.append(name)
                continue
            if verb == "stop":
                fakesys.stop_unit(unit)
                continue
            fakesys.start_unit(unit)
            if unit["state"] == "failed":
                print(f"Job for {name} failed because the control process exited with error code.", file=sys.stderr)
                print(f'See "systemctl status {name}" and "journalctl -xeu {name}" for details.', file=sys.stderr)
                return 1
    while any(fakesys.read_state()["units"][name]["state"] == "deactivating" for name in slow):
        time.sleep(0.05)  # systemctl waits for its job, unless it is killed first
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
