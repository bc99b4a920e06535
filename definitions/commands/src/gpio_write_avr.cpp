// AVR: what digitalWrite and then pinMode(pin, OUTPUT) do, with one lookup of the pin's port and
// bit instead of two, under one interrupt lock (issue 19: ~90 cycles less per request). A pin
// with a PWM timer takes the core's own calls: only digitalWrite turns its PWM off.
static void cmd_gpio_write(const long* args) {
  const uint8_t pin = (uint8_t)args[0];
  const bool high = args[1] != 0;
  if (digitalPinToTimer(pin) != NOT_ON_TIMER) {
    digitalWrite(pin, high ? HIGH : LOW);  // level first: no glitch when it becomes an output
    pinMode(pin, OUTPUT);
  } else {
    const uint8_t bit = digitalPinToBitMask(pin);
    const uint8_t port = digitalPinToPort(pin);
    volatile uint8_t* out = portOutputRegister(port);
    volatile uint8_t* mode = portModeRegister(port);
    const uint8_t sreg = SREG;
    cli();
    if (high) {
      *out |= bit;
    } else {
      *out &= (uint8_t)~bit;
    }
    *mode |= bit;
    SREG = sreg;
  }
  fw_reply_gpio_write(args[0], args[1]);
}
