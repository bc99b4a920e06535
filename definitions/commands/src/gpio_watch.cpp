static void cmd_gpio_watch(const long* args) {
  const uint8_t pin = (uint8_t)args[0];
  const uint8_t value = digitalRead(pin) == HIGH ? 1 : 0;
  if (!gpio_watch_set(pin, args[1] != 0, value)) {
    fw_reply_error(F("busy"));
    return;
  }
  fw_reply_gpio_watch(pin, args[1], value);
}
