// DHT single-wire pulse timing on AVR: busy loops on the port register, interrupts off.
// Returns 1 + the loop count while the line stays at `level`, or 0 after about 200 us.
static uint8_t dht_in_port;
static uint8_t dht_in_mask;

// Interrupts are off while the 40 bits arrive.
static void dht_lock() {
  noInterrupts();
}

static void dht_unlock() {
  interrupts();
}

static uint16_t dht_pulse(uint8_t level) {
  const uint16_t limit = (uint16_t)(F_CPU / 40000UL);  // ~8 cycles a turn: ~200 us
  uint16_t count = 1;
  const uint8_t want = level ? dht_in_mask : 0;
  volatile uint8_t* in = portInputRegister(dht_in_port);
  while ((*in & dht_in_mask) == want) {
    if (++count >= limit) return 0;
  }
  return count;
}

static void dht_select(uint8_t pin) {
  dht_in_port = digitalPinToPort(pin);
  dht_in_mask = digitalPinToBitMask(pin);
}
