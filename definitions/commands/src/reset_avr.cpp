// After a watchdog reset the watchdog stays armed (WDRF set); without a bootloader that clears it,
// the sketch would reset again 15 ms into setup(). Disarm it before any C++ start-up code runs.
void fw_watchdog_off(void) __attribute__((naked, used, section(".init3")));
void fw_watchdog_off(void) {
  MCUSR = 0;
  wdt_disable();
}

// Restarts through the watchdog: the AVR has no software reset.
static void fw_restart() {
  wdt_enable(WDTO_15MS);
  for (;;) {}
}
