static void cmd_analog_read(const long* args) {
  fw_reply_begin();
  fw_reply_int(F("pin"), args[0]);
  fw_reply_int(F("value"), analogRead((uint8_t)fw_analog_index(args[0])));
  fw_reply_end();
}
