static void cmd_analog_read(const long* args) {
  fw_reply_analog_read(args[0], analogRead((uint8_t)fw_analog_index(args[0])));
}
