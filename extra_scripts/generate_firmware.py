"""PlatformIO pre: script: generate this env's sketch from its custom_firmware_* options.

Thin glue: reads the env, calls generator.glue, points the build at src/<env>/ and hands the
result to the post: scripts. All logic and all checks live in the generator package.
In a user's own project (the generator pip-installed into PlatformIO's Python), the sketch goes
to generated/<env>/ and is compiled beside the project's own src/.
"""
import atexit
import gc
import sys
from pathlib import Path

Import("env")
from SCons.Script import COMMAND_LINE_TARGETS

# The collector pauses while this script runs. By now a no-op build's SCons process has made
# nearly the allocations that set off Python's first full collection, which walks every object
# PlatformIO and SCons made (~45 ms); importing and running the generator (modules, classes, a
# stamp) would make it happen in every no-op build. Paused, they cost one young collection
# instead of dozens, and create no garbage cycles that would wait for a collection.
COLLECTING = gc.isenabled()
gc.disable()

PROJECT_DIR = Path(env.subst("$PROJECT_DIR"))
if (PROJECT_DIR / "generator" / "glue.py").is_file() and str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))  # the generator's own checkout

try:
    from generator import glue
    from generator.paths import is_checkout, user_sketch_root
    from generator.pioenv.options import EnvOptions, Hardware
except ImportError:
    print(f"error: the firmware generator is not installed in PlatformIO's Python ({env.subst('$PYTHONEXE')})\n"
          f"  hint: run: \"{env.subst('$PYTHONEXE')}\" -m pip install <the generator's folder or git URL>")
    env.Exit(1)


def convert_sketch(env) -> None:
    """Replaces PlatformIO's .ino conversion (see glue.convert_sketch); the .cpp is removed at
    exit, as PlatformIO does, so the sketch folder stays openable in the Arduino IDE."""
    cpp = glue.guarded(lambda: glue.convert_sketch(Path(env.subst("$PROJECT_SRC_DIR")).parent,
                                                   env.subst("$PIOENV")))
    if isinstance(cpp, int):
        env.Exit(cpp)
    elif cpp:
        atexit.register(cpp.unlink, missing_ok=True)


def run(env) -> None:
    """Generate the sketch, or stop the build with a clear message (never a traceback)."""
    if not glue.needs_sketch(env.IsCleanTarget(), COMMAND_LINE_TARGETS):
        return  # clean, cleanall, envdump...: nothing compiles, so nothing to generate or check
    name = env.subst("$PIOENV")
    checkout = is_checkout(PROJECT_DIR)
    src_dir = Path(env.subst("$PROJECT_SRC_DIR")) if checkout else user_sketch_root(PROJECT_DIR)
    options = EnvOptions.from_project_config(name, env.GetProjectConfig(), env.subst("$PROJECT_CONFIG"))
    hardware = Hardware(env.subst("$BOARD"), env.BoardConfig().get("build.mcu", ""), env.subst("$PIOPLATFORM"))
    if checkout:
        env.Replace(PROJECT_SRC_DIR=str(glue.sketch_folder(src_dir, name)))
        env.AddMethod(convert_sketch, "ConvertInoToCpp")
    ide_refresh = bool(env.IsIntegrationDump())  # VS Code's idedata: never install nor fail here
    result = glue.guarded(lambda: glue.env_sketch(options, hardware, src_dir,
                                                  Path(env.subst("$BUILD_DIR")), env.subst("$PYTHONEXE"),
                                                  ide_refresh, PROJECT_DIR))
    if isinstance(result, int):
        if not ide_refresh:
            env.Exit(result)
        return
    env.Replace(FIRMWARE_SKETCH=result)  # for the post: script's targets (board_targets.py)
    if not checkout and result is not None:  # compiled beside the project's own src/
        cpp = glue.convert_sketch(src_dir, name)
        if cpp:
            atexit.register(cpp.unlink, missing_ok=True)
            env.BuildSources(str(Path(env.subst("$BUILD_DIR")) / "generated_sketch"), str(cpp.parent), "+<*.cpp>")


try:
    run(env)
finally:
    if COLLECTING:
        gc.enable()
