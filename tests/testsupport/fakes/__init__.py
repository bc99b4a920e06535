"""Strict stand-ins for what cannot exist on a test machine: wchisp, systemctl, sudo, Moonraker, a CH32V203."""
