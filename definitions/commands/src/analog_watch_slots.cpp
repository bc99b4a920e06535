// ANALOG_WATCH: up to ANALOG_WATCH_MAX analog pins read every `interval` ms and pushed as event
// lines (fw_event). The next read is due one interval after the last was pushed, so a busy wire
// or a slow loop stretches the period rather than piling events up.
#define ANALOG_WATCH_MAX 4
static uint8_t analog_watch_pins[ANALOG_WATCH_MAX] = {FW_WATCH_NONE, FW_WATCH_NONE, FW_WATCH_NONE, FW_WATCH_NONE};
static uint16_t analog_watch_every[ANALOG_WATCH_MAX];
static uint32_t analog_watch_last[ANALOG_WATCH_MAX];

// Starts (every > 0 ms) or stops (0) reading pin; false when all slots are taken.
static bool analog_watch_set(uint8_t pin, uint16_t every) {
  const uint8_t slot = fw_watch_slot(analog_watch_pins, ANALOG_WATCH_MAX, pin);
  if (slot == FW_WATCH_NONE) return every == 0;
  analog_watch_pins[slot] = every ? pin : FW_WATCH_NONE;
  analog_watch_every[slot] = every;
  analog_watch_last[slot] = millis();
  return true;
}

static void analog_watch_poll() {
  for (uint8_t i = 0; i < ANALOG_WATCH_MAX; i++) {
    const uint8_t pin = analog_watch_pins[i];
    if (pin == FW_WATCH_NONE || millis() - analog_watch_last[i] < analog_watch_every[i]) continue;
    fw_event(F("ANALOG"), pin, analogRead((uint8_t)fw_analog_index(pin)));
    analog_watch_last[i] = millis();
  }
}
