#!/usr/bin/env python3
"""Fake sudo: `sudo [-n] COMMAND ...`. The configuration's "sudo" says what the user may do:
"nopasswd" runs COMMAND as root (for the fakes: FAKE_SUDO=1); "password" fails like the real sudo
does without a terminal, at once with -n. $FAKE_SUDO_RIGHTS overrides it (Moonraker's own sudo)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import fakesys


def main(argv: list[str]) -> int:
    non_interactive = False
    while argv and argv[0].startswith("-"):
        option = argv.pop(0)
        if option == "--":
            break
        if option in ("-n", "--non-interactive"):
            non_interactive = True
            continue
        print(f"sudo: invalid option -- '{option.lstrip('-')[:1]}'", file=sys.stderr)
        print("usage: sudo [-n] command  (fake: only -n is emulated)", file=sys.stderr)
        return 1
    if not argv:
        print("usage: sudo -h | -K | -k | -V\nusage: sudo [-n] command", file=sys.stderr)
        return 1
    rights = os.environ.get("FAKE_SUDO_RIGHTS") or fakesys.read_state().get("sudo", "password")
    fakesys.log(" ".join(["sudo", *(["-n"] if non_interactive else []), *argv]) + f" [{rights}]" + fakesys.caller())
    if rights != "nopasswd":
        if not non_interactive:
            print("sudo: a terminal is required to read the password; either use the -S option to read "
                  "from standard input or configure an askpass helper", file=sys.stderr)
        print("sudo: a password is required", file=sys.stderr)
        return 1
    os.execvpe(argv[0], argv, {**os.environ, "FAKE_SUDO": "1"})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
