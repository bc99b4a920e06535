"""`pio test -e uno` (VS Code's Test button): firmware-level tests on the simulated board, offline.

PlatformIO builds the env's generated firmware (`test_build_src = yes`); this runner then runs it
on sim/build/avr_board (no upload, no Unity: neither needs a board nor the registry), sends each
request of test/<suite>/cases.json and checks that every key of `expect` is in the reply.
"""
import json
import sys
from pathlib import Path

from platformio.public import TestCase, TestRunnerBase, TestStatus


class CustomTestRunner(TestRunnerBase):
    """Builds as PlatformIO does; tests by talking to the firmware on the simulated board."""

    def stage_uploading(self):
        """Never upload; an "embedded" platform builds only at this stage, so build here then."""
        if self.platform.is_embedded() and not self.options.without_building:
            return self.run_project_targets(["__test", "checkprogsize"])
        return None

    def stage_testing(self):
        if self.options.without_testing:
            return
        project = Path(self.project_config.path).parent
        if str(project) not in sys.path and (project / "generator").is_dir():
            sys.path.insert(0, str(project))  # a checkout; elsewhere the package is installed
        from generator.boards import board_facts  # noqa: PLC0415 - PlatformIO loads this file itself
        from generator.host.client import BoardClient  # noqa: PLC0415
        from generator.paths import stamp_path  # noqa: PLC0415
        from generator.pioenv.envsketch import Stamp  # noqa: PLC0415
        from generator.sim.board import SimBoard  # noqa: PLC0415

        env = self.test_suite.env_name
        build_dir = Path(self.project_config.get("platformio", "build_dir")) / env
        stamp = Stamp.load(stamp_path(build_dir))
        if stamp is None:
            raise RuntimeError(f"{build_dir}: no generated firmware: is {env} a generated-firmware env?")
        cases = json.loads((Path(self.test_suite.test_dir) / "cases.json").read_text())["cases"]
        board = board_facts(stamp.identity.board)
        with SimBoard(build_dir / "firmware.elf", board.simulated().mcu, board.f_cpu) as sim, \
                BoardClient(sim.serial_port, stamp.baud_rate or 115200) as client:
            client.wait_ready()
            for case in cases:
                reply = client.request(case["send"])
                expect = {k: str(v).replace("{hash}", stamp.identity.hash) if isinstance(v, str) else v
                          for k, v in case["expect"].items()}
                wrong = {k: reply.get(k) for k, v in expect.items() if reply.get(k) != v}
                status = TestStatus.FAILED if wrong else TestStatus.PASSED
                message = f"{case['send']} -> {json.dumps(reply)}; expected {json.dumps(expect)}" if wrong else None
                print(f"{case['name']}: {case['send']} -> {json.dumps(reply)}")
                self.test_suite.add_case(TestCase(name=case["name"], status=status, message=message))
