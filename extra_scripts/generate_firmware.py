"""PlatformIO pre: script: generate this env's sketch from its custom_firmware_* options.

Thin glue: reads the env, calls generator.project, points the build at src/<env>/. All logic and
all checks live in the generator package.
"""
# pylint: disable=undefined-variable
import atexit
import sys
from pathlib import Path

Import("env")  # noqa: F821 - provided by SCons

ROOT = Path(env.subst("$PROJECT_DIR"))  # noqa: F821
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from generator import deps  # noqa: E402
from generator.errors import FirmwareError  # noqa: E402
from generator.output import write_if_changed  # noqa: E402
from generator.project import generate_env, sketch_as_cpp, sketch_path  # noqa: E402
from generator.selection import PREFIX  # noqa: E402


def convert_sketch(env) -> None:
    """Replaces PlatformIO's .ino conversion, whose output differs on every run (it embeds a
    temporary file name) and so recompiles the sketch each time. Removed at exit, as PlatformIO
    does, so the sketch folder stays openable in the Arduino IDE."""
    ino = sketch_path(Path(env.subst("$PROJECT_SRC_DIR")).parent, env.subst("$PIOENV"))
    if not ino.is_file():  # an IDE refresh that generated nothing (broken selection, no jinja2)
        return
    cpp = ino.with_name(ino.name + ".cpp")
    write_if_changed(cpp, sketch_as_cpp(ino))
    atexit.register(cpp.unlink, missing_ok=True)


def run(env) -> None:
    """Generate the sketch, or stop the build with a clear message (never a traceback)."""
    name = env.subst("$PIOENV")
    src_dir = Path(env.subst("$PROJECT_SRC_DIR"))
    env.Replace(PROJECT_SRC_DIR=str(sketch_path(src_dir, name).parent))
    env.AddMethod(convert_sketch, "ConvertInoToCpp")
    config = env.GetProjectConfig()
    options = {key: config.get(f"env:{name}", key) for key in config.options(f"env:{name}")
               if key.startswith(PREFIX)}
    ide_refresh = bool(env.IsIntegrationDump())  # VS Code's idedata: never install nor fail here
    if ide_refresh and deps.missing_modules():
        return
    try:
        deps.ensure(env.subst("$PYTHONEXE"), ROOT / "requirements-generator.txt")
        result = generate_env(ROOT, src_dir, Path(env.subst("$BUILD_DIR")), name,
                              env.subst("$BOARD"), options)
    except FirmwareError as exc:
        sys.stderr.write(f"firmware: error: {exc}\n")
        if not ide_refresh:
            env.Exit(1)
        return
    if ide_refresh:
        return
    env.Replace(FIRMWARE_SKETCH=result)  # for the post: script's targets (board_targets.py)
    shown = result.path.relative_to(ROOT) if result.path.is_relative_to(ROOT) else result.path
    state = "written" if result.written else "up to date"
    for warning in result.warnings:
        print(f"firmware: warning: {warning}")
    print(f"firmware: {shown} {state} (hash {result.hash}; capabilities: "
          f"{', '.join(result.capabilities) or 'none'})")


run(env)  # noqa: F821
