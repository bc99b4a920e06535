// DHT single-wire pulse timing on AVR: busy loops on the port register, interrupts ON.
// Returns 1 + the loop count while the line stays at `level`, or 0 after about 200 us.
// The 40 bits take 4-5 ms: with interrupts off, a USART keeps only the 2 bytes it can hold of
// the ~50 that arrive at 115200. Interrupt handlers (serial receive, millis tick: a few us each)
// only shorten the pulse they land in, and a bit is read by comparing its high pulse (~27 us
// for 0, ~70 us for 1) with its ~50 us low one: 20 us of margin either way.
static uint8_t dht_in_port;
static uint8_t dht_in_mask;

static void dht_lock() {}
static void dht_unlock() {}

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
