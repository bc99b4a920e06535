# make build: install what is missing (tool-scons for every PlatformIO Core found, avrdude, the
#             simulated board), then `pio run` the default env (uno).
# make test:  install what is missing, then lint and run every test (pytest, then `pio test -e uno`).
# make test-fast: lint, then the tests that neither build, compile nor simulate (no pio, no compilers,
#             no simulated board: pytest -m "not slow", see tests/testsupport/lanes.py).
# make lint:  ruff (configured in ruff.toml) and mypy --strict over generator/ (configured in
#             pyproject.toml), both pinned in requirements.txt; vermin: the flash
#             side (FLASH_PY39) runs on Python 3.9.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIO := $(VENV)/bin/pio
STAMP := $(VENV)/.requirements-installed
APT_PACKAGES := g++ gcc-avr avr-libc arduino-core-avr arduino-builder arduino-ctags \
                simavr libsimavr-dev libelf-dev avrdude tmux gcc-riscv64-unknown-elf clang-format

# How long apt waits for a dpkg or apt lock another program holds (apt-get update's lists lock
# ignores DPkg::Lock::Timeout, so that one is retried every 10 s).
APT_LOCK_WAIT := 600
# Said when a `pio` command fails: PlatformIO reports a registry it cannot reach as a bare `HTTPClientError:`.
REGISTRY_HINT := { echo "make: if the error above is a bare 'HTTPClientError:', PlatformIO tried to download from its registry, which this machine may not reach: run 'make tool-scons' (each Core's tool-scons) and keep the env on 'platform = symlink://platforms/avr-debian' (README: Which env builds where)" >&2; exit 1; }

.PHONY: build test test-fast lint deps apt tool-scons sim bench clean flash

build: deps sim
	@echo "$(PIO) run"; $(PIO) run || $(REGISTRY_HINT)

test: deps sim lint
	$(PY) -m pytest
	@echo "$(PIO) test -e uno"; $(PIO) test -e uno || $(REGISTRY_HINT)

test-fast: $(STAMP) lint
	$(PY) -m pytest -m "not slow"

# What `python -m generator.flash` imports (tests/flash/test_python39.py checks that this list
# covers it): it runs on Klipper hosts with Python 3.9, which no registry here installs, so vermin
# checks its syntax and standard-library use against 3.9 instead.
FLASH_PY39 := generator/__init__.py generator/boards.py generator/errors.py generator/paths.py \
              generator/flash generator/host/__init__.py generator/host/ports.py generator/host/holders.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/vermin -t=3.9- --no-tips --violations $(FLASH_PY39)

bench: deps sim
	$(PY) bench/run.py

deps: apt tool-scons

# Debian packages: the AVR toolchain, the Arduino AVR core, simavr and the RISC-V compiler the tests
# build the BMCU-C firmware with (installed only if missing).
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  echo "apt: installing$$missing (if another program holds the dpkg lock, such as unattended-upgrades on a fresh machine, apt waits for it up to $(APT_LOCK_WAIT) s)"; \
	  waited=0; until out=$$($$sudo apt-get update -qq 2>&1); do \
	    echo "$$out" | grep -q "Could not get lock" && [ $$waited -lt $(APT_LOCK_WAIT) ] || { echo "$$out" >&2; exit 1; }; \
	    echo "apt: waiting for another program's apt lock ($$(echo "$$out" | grep -o 'held by process.*' | head -1)); $$waited s of $(APT_LOCK_WAIT)"; \
	    sleep 10; waited=$$((waited + 10)); \
	  done; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) install -y -qq $$missing; \
	else echo "apt: all packages present"; fi

# The virtual environment with PlatformIO, SCons and the generator's dependencies, pinned.
$(STAMP): requirements.txt requirements-generator.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "pip: installing requirements.txt into $(VENV) (PlatformIO, SCons, pytest...: a minute or two the first time)"
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	@touch $@

# .venv's PlatformIO gets a core folder of its own (.venv/platformio-core: another Core, such as
# VS Code's in ~/.platformio, never makes it upgrade or wait for the registry); then PlatformIO's
# core package tool-scons for every PlatformIO Core found (this .venv, VS Code's penv, PATH), each
# from the SCons release it pins, from PyPI (no registry needed).
tool-scons: $(STAMP)
	@$(PY) -m generator tool-scons --all --own-core-dir

# The simulated board (simavr).
sim: apt
	@$(MAKE) --no-print-directory -C sim

clean:
	rm -rf .pio src/*/ sim/build

# make flash FIRMWARE=path/to/klipper.bin (a BMCU-C Klipper build, see README) [DEVICE=/dev/serial/by-id/...] [ARGS=--dry-run]
flash: $(STAMP)
	$(PY) -m generator flash --firmware $(FIRMWARE) $(if $(DEVICE),--device $(DEVICE)) $(ARGS)
