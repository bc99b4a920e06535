// ESP8266's analogWrite() counts to 1023 by default; PWM_WRITE's duty counts to 255.
static void pwm_write_setup() {
  analogWriteRange(255);
}
