static void cmd_analog_watch(const long* args) {
  const uint8_t pin = (uint8_t)args[0];
  const long value = analogRead((uint8_t)fw_analog_index(pin));
  if (!analog_watch_set(pin, (uint16_t)args[1])) {
    fw_reply_error(F("busy"));
    return;
  }
  fw_reply_analog_watch(pin, args[1], value);
}
