static void cmd_pwm_write(const long* args) {
  pinMode((uint8_t)args[0], OUTPUT);
  analogWrite((uint8_t)args[0], (int)args[1]);
  fw_reply_pwm_write(args[0], args[1]);
}
