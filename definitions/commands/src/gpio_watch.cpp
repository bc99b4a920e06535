// GPIO_WATCH: up to GPIO_WATCH_MAX pins whose level changes are pushed as event lines. Events are
// written from loop(), between replies (never inside one), always with a "*hh" checksum.
#define GPIO_WATCH_MAX 8
#define GPIO_WATCH_NONE 0xFF
static uint8_t gpio_watch_pins[GPIO_WATCH_MAX] = {
    GPIO_WATCH_NONE, GPIO_WATCH_NONE, GPIO_WATCH_NONE, GPIO_WATCH_NONE,
    GPIO_WATCH_NONE, GPIO_WATCH_NONE, GPIO_WATCH_NONE, GPIO_WATCH_NONE};
static uint8_t gpio_watch_levels[GPIO_WATCH_MAX];

// Starts or stops watching pin; false when all slots are taken.
static bool gpio_watch_set(uint8_t pin, bool watch, uint8_t level) {
  uint8_t free_slot = GPIO_WATCH_NONE;
  for (uint8_t i = 0; i < GPIO_WATCH_MAX; i++) {
    if (gpio_watch_pins[i] == pin) {
      gpio_watch_pins[i] = watch ? pin : GPIO_WATCH_NONE;
      gpio_watch_levels[i] = level;
      return true;
    }
    if (gpio_watch_pins[i] == GPIO_WATCH_NONE && free_slot == GPIO_WATCH_NONE) free_slot = i;
  }
  if (!watch) return true;
  if (free_slot == GPIO_WATCH_NONE) return false;
  gpio_watch_pins[free_slot] = pin;
  gpio_watch_levels[free_slot] = level;
  return true;
}

static void gpio_watch_poll() {
  if (!fw_out) return;  // no host yet (wifi_tcp before its first client)
  for (uint8_t i = 0; i < GPIO_WATCH_MAX; i++) {
    const uint8_t pin = gpio_watch_pins[i];
    if (pin == GPIO_WATCH_NONE) continue;
    const uint8_t level = digitalRead(pin) == HIGH ? 1 : 0;
    if (level == gpio_watch_levels[i]) continue;
    gpio_watch_levels[i] = level;
    fw_summed.wire = fw_out;
    fw_summed.print(F("{\"event\":\"GPIO_CHANGE\",\"pin\":"));
    fw_summed.print(pin);
    fw_summed.print(F(",\"value\":"));
    fw_summed.print(level);
    fw_summed.print(F("}\n"));
  }
}
