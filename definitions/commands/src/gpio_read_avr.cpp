// AVR: a pin that is already an input without a PWM timer, its pull-up as asked, is read
// straight from its PINx register (issue 19): pinMode would only write what the registers
// already hold. Any other pin takes the core's pinMode and digitalRead, as on every board:
// digitalRead turns a PWM off, and the ~50 cycles (3 us) between the two let a pull-up just
// switched on charge the pin before it is read.
__attribute__((noinline)) static int8_t fw_gpio_level_as_set(uint8_t pin, uint8_t pull) {
  if (digitalPinToTimer(pin) != NOT_ON_TIMER) return -1;
  const uint8_t bit = digitalPinToBitMask(pin);
  const uint8_t port = digitalPinToPort(pin);
  // Every port of a classic AVR (the cores' "avr" architecture) is PINx, DDRx, PORTx at three
  // consecutive addresses (the datasheets' I/O port memory maps): one lookup gives all three.
  volatile uint8_t* const in = portInputRegister(port);
  if ((in[1] & bit) || ((in[2] & bit) ? 1 : 0) != pull) return -1;
  return *in & bit ? 1 : 0;
}

static void cmd_gpio_read(const long* args) {
  if (args[1] && !fw_pin_has_pullup(args[0])) {
    fw_reply_arg_error(FW_CODE(FW_BAD_PIN), FW_KEY_pin);  // no pull-up to switch on
    return;
  }
  const uint8_t pin = (uint8_t)args[0];
  int8_t level = fw_gpio_level_as_set(pin, (uint8_t)args[1]);
  if (level < 0) {
    pinMode(pin, args[1] ? INPUT_PULLUP : INPUT);
    level = digitalRead(pin) == HIGH ? 1 : 0;
  }
  fw_reply_gpio_read(args[0], level);
}
