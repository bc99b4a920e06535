// The openwch core's analogWrite() counts to 4095 by default (pins_arduino.h PWM_RESOLUTION, 12 bits);
// PWM_WRITE's duty counts to 255.
static void pwm_write_setup() {
  analogWriteResolution(8);
}
