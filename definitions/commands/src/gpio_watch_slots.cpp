// GPIO_WATCH: up to GPIO_WATCH_MAX pins whose level changes are pushed as event lines (fw_event).
#define GPIO_WATCH_MAX 8
static uint8_t gpio_watch_pins[GPIO_WATCH_MAX] = {FW_WATCH_NONE, FW_WATCH_NONE, FW_WATCH_NONE, FW_WATCH_NONE,
                                                  FW_WATCH_NONE, FW_WATCH_NONE, FW_WATCH_NONE, FW_WATCH_NONE};
static uint8_t gpio_watch_levels[GPIO_WATCH_MAX];

// Starts or stops watching pin; false when all slots are taken.
static bool gpio_watch_set(uint8_t pin, bool watch, uint8_t level) {
  const uint8_t slot = fw_watch_slot(gpio_watch_pins, GPIO_WATCH_MAX, pin);
  if (slot == FW_WATCH_NONE) return !watch;
  gpio_watch_pins[slot] = watch ? pin : FW_WATCH_NONE;
  gpio_watch_levels[slot] = level;
  return true;
}

static void gpio_watch_poll() {
  for (uint8_t i = 0; i < GPIO_WATCH_MAX; i++) {
    const uint8_t pin = gpio_watch_pins[i];
    if (pin == FW_WATCH_NONE) continue;
    const uint8_t level = digitalRead(pin) == HIGH ? 1 : 0;
    if (level == gpio_watch_levels[i]) continue;
    gpio_watch_levels[i] = level;
    fw_event(F("GPIO_CHANGE"), pin, level);
  }
}
