"""PlatformIO glue: `pio run -t upload` and `pio run -t flash_klipper` flash with wchisp through
generator.flashing, which stops Klipper and always starts it again. All logic lives there.

Use it with `extra_scripts = post:extra_scripts/wchisp_upload.py`.
"""
# pylint: disable=undefined-variable
import sys
from pathlib import Path

Import("env")  # noqa: F821

PROJECT_DIR = Path(env.subst("$PROJECT_DIR"))  # noqa: F821
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from generator.errors import FirmwareError  # noqa: E402
from generator.flashing import pio_options  # noqa: E402
from generator.flashing.cli import execute, report_failure  # noqa: E402

# Read now, before the platform's upload step may auto-detect (guess) a port into UPLOAD_PORT.
GIVEN_PORT = env.subst("$UPLOAD_PORT")  # noqa: F821


def _option(name, default):
    return str(env.GetProjectOption(name, default))  # noqa: F821


def _flash(image_of):
    """Flash the image that `image_of()` names; non-zero on failure, which fails `pio run`.

    Only the user's upload_speed counts: a platform's default speed is meant for its own uploader.
    """
    try:
        request = pio_options.flash_request(
            _option, PROJECT_DIR, image_of(), GIVEN_PORT, _option("upload_speed", "")
        )
    except FirmwareError as err:
        return report_failure(err)
    return execute(request)


def upload(source, target, env):
    return _flash(lambda: pio_options.built_image(Path(env.subst("$BUILD_DIR")), env.subst("$PROGNAME")))


def flash_klipper(source, target, env):
    return _flash(lambda: pio_options.klipper_image(_option("custom_klipper_image", ""), PROJECT_DIR))


env.Replace(UPLOADCMD=upload)  # noqa: F821
_raw = env.File(env.subst("$BUILD_DIR/${PROGNAME}.bin"))  # noqa: F821
if _raw.has_builder():  # make `upload` build the raw image even if the platform uploads another one
    env.Depends(env.Alias("upload"), _raw)  # noqa: F821
env.AddCustomTarget(  # noqa: F821
    name="flash_klipper",
    dependencies=None,
    actions=[env.VerboseAction(flash_klipper, "Flashing custom_klipper_image")],  # noqa: F821
    title="Flash Klipper",
    description="Flash custom_klipper_image with wchisp, stopping and restarting Klipper",
)
