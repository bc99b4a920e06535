static void cmd_gpio_read(const long* args) {
  if (args[1] && !fw_pin_has_pullup(args[0])) {
    fw_reply_arg_error(FW_CODE(FW_BAD_PIN), FW_KEY_pin);  // no pull-up to switch on
    return;
  }
  pinMode((uint8_t)args[0], args[1] ? INPUT_PULLUP : INPUT);
  fw_reply_gpio_read(args[0], digitalRead((uint8_t)args[0]) == HIGH ? 1 : 0);
}
