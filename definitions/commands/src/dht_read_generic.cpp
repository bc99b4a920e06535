// DHT single-wire pulse timing with micros(): returns the pulse length in us, or 0 after 200 us.
static uint8_t dht_pin;

// Interrupts are off while the 40 bits arrive.
static void dht_lock() {
  noInterrupts();
}

static void dht_unlock() {
  interrupts();
}

static uint16_t dht_pulse(uint8_t level) {
  const uint32_t start = micros();
  while (digitalRead(dht_pin) == (level ? HIGH : LOW)) {
    if (micros() - start >= 200) return 0;
  }
  const uint32_t length = micros() - start;
  return length ? (uint16_t)length : 1;
}

static void dht_select(uint8_t pin) {
  dht_pin = pin;
}
