"""PlatformIO post: script: `pio run -t upload` and `pio run -t flash_klipper` flash with wchisp
through generator.flash, which stops Klipper and always starts it again. All logic lives there.

Use it with `extra_scripts = post:extra_scripts/wchisp_upload.py`.
"""
import sys
from pathlib import Path

Import("env")

PROJECT_DIR = Path(env.subst("$PROJECT_DIR"))
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from generator import glue
from generator.pioenv.options import EnvOptions
from generator.pioenv.upload import built_image, klipper_image

# Read now, before the platform's upload step may auto-detect (guess) a port into UPLOAD_PORT.
GIVEN_PORT = env.subst("$UPLOAD_PORT")
OPTIONS = EnvOptions.from_project_config(env.subst("$PIOENV"), env.GetProjectConfig(), env.subst("$PROJECT_CONFIG"))


def upload(source, target, env) -> int:
    def image() -> Path:
        return built_image(Path(env.subst("$BUILD_DIR")), env.subst("$PROGNAME"))
    return glue.guarded(lambda: glue.flash(OPTIONS, PROJECT_DIR, image, GIVEN_PORT))


def flash_klipper(source, target, env) -> int:
    def image() -> Path:
        return klipper_image(OPTIONS.text("custom_klipper_image"), PROJECT_DIR)
    return glue.guarded(lambda: glue.flash(OPTIONS, PROJECT_DIR, image, GIVEN_PORT))


env.Replace(UPLOADCMD=upload)
_raw = env.File(env.subst("$BUILD_DIR/${PROGNAME}.bin"))
if _raw.has_builder():  # make `upload` build the raw image even if the platform uploads another one
    env.Depends(env.Alias("upload"), _raw)
env.AddCustomTarget(
    name="flash_klipper",
    dependencies=None,
    actions=[env.VerboseAction(flash_klipper, "Flashing custom_klipper_image")],
    title="Flash Klipper",
    description="Flash custom_klipper_image with wchisp, stopping and restarting Klipper",
)
