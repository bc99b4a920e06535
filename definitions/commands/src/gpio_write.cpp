static void cmd_gpio_write(const long* args) {
  digitalWrite((uint8_t)args[0], args[1] ? HIGH : LOW);  // level first: no glitch when it becomes an output
  pinMode((uint8_t)args[0], OUTPUT);
  fw_reply_gpio_write(args[0], args[1]);
}
