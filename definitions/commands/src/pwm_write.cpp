static void cmd_pwm_write(const long* args) {
  pinMode((uint8_t)args[0], OUTPUT);
  analogWrite((uint8_t)args[0], (int)args[1]);
  fw_reply_begin();
  fw_reply_int(F("pin"), args[0]);
  fw_reply_int(F("duty"), args[1]);
  fw_reply_end();
}
