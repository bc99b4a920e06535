static void cmd_gpio_write(const long* args) {
  digitalWrite((uint8_t)args[0], args[1] ? HIGH : LOW);  // level first: no glitch when it becomes an output
  pinMode((uint8_t)args[0], OUTPUT);
  fw_reply_begin();
  fw_reply_int(F("pin"), args[0]);
  fw_reply_int(F("value"), args[1]);
  fw_reply_end();
}
