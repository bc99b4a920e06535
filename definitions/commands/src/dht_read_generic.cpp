// DHT single-wire pulse timing with micros() (ESP8266, and any core without its own timing code):
// returns the pulse length in us (at least 1), or 0 after 200 us.
// Interrupts stay on (dht_lock is empty), so the UART keeps receiving during the 4-5 ms read. An
// interrupt handler that runs while a pulse is timed makes its edge seen late: that pulse reads
// longer and the next one shorter by the handler's time. A bit is read by comparing its high
// pulse (~27 us for 0, ~70 us for 1) with its ~50 us low one, 20 us apart either way: handlers
// of up to ~9 us (the UART's take a few) cannot turn a bit over, and the sensor's checksum
// refuses a reading that a longer one spoiled (sensor_checksum: read again).
static uint8_t dht_pin;

static void dht_lock() {}
static void dht_unlock() {}

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
