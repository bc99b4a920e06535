"""The avr-debian platform's class: PlatformIO's own, except that an unknown board is answered
with the boards this platform builds and how to add one (PlatformIO alone says only
"Unknown board ID"; it prints this message as `Error: ...` and stops before any script runs)."""
import difflib
import os

from platformio.platform.exception import UnknownBoard
from platformio.public import PlatformBase


class UnknownOfflineBoard(UnknownBoard):
    MESSAGE = (
        "Unknown board ID '{0}' for the offline platform avr-debian ({1}).\n"
        "  hint: {3}it builds: {2}.\n"
        "  To add an AVR board that Debian's Arduino AVR core has (its boards.txt and variants/): copy its "
        "file from PlatformIO's platform-atmelavr (boards/<id>.json) into {1}, and describe it in "
        "definitions/boards/ (README: \"Adding a board, transport, command or device\"); "
        "`python -m generator list` shows the boards the generator knows."
    )


class AvrdebianPlatform(PlatformBase):
    def board_config(self, id_):
        try:
            return super().board_config(id_)
        except UnknownBoard:
            folder = os.path.join(self.get_dir(), "boards")
            known = sorted(name[:-5] for name in os.listdir(folder) if name.endswith(".json"))
            close = difflib.get_close_matches(id_, known, n=1, cutoff=0.6)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise UnknownOfflineBoard(id_, folder + os.sep, ", ".join(known), guess) from None
