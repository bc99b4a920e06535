// Reads 40 bits from a DHT11/DHT22: start signal, 80 us low + 80 us high answer, then each bit is
// ~50 us low followed by ~27 us (0) or ~70 us (1) high. A bit is 1 when its high pulse outlasts
// its low one, so no absolute clock is needed. Returns 0 on success, else an error code.
static uint8_t dht_transfer(uint8_t pin, bool dht11, uint8_t data[5]) {
  dht_select(pin);
  pinMode(pin, OUTPUT);
  digitalWrite(pin, LOW);
  delay(dht11 ? 20 : 2);
  for (uint8_t i = 0; i < 5; i++) data[i] = 0;
  dht_lock();
  pinMode(pin, INPUT_PULLUP);
  delayMicroseconds(10);
  bool ok = dht_pulse(HIGH) && dht_pulse(LOW) && dht_pulse(HIGH);
  for (uint8_t i = 0; ok && i < 40; i++) {
    const uint16_t low = dht_pulse(LOW);
    const uint16_t high = dht_pulse(HIGH);
    ok = low && high;
    data[i / 8] = (uint8_t)((data[i / 8] << 1) | (high > low ? 1 : 0));
  }
  dht_unlock();
  if (!ok) return 1;
  return (uint8_t)(data[0] + data[1] + data[2] + data[3]) == data[4] ? 0 : 2;
}

static void cmd_dht_read(const long* args) {
  const uint8_t pin = (uint8_t)args[0];
  const bool dht11 = args[1] == 1;
  uint8_t d[5];
  const uint8_t status = dht_transfer(pin, dht11, d);
  if (status == 1) {
    fw_reply_error(F("sensor_timeout"));
    return;
  }
  if (status == 2) {
    fw_reply_error(F("sensor_checksum"));
    return;
  }
  int16_t humidity;
  int16_t temperature;
  if (dht11) {
    humidity = (int16_t)(d[0] * 10 + d[1] % 10);
    temperature = (int16_t)(d[2] * 10 + (d[3] & 0x7F) % 10U);
    if (d[3] & 0x80) temperature = (int16_t)-temperature;
  } else {
    humidity = (int16_t)(((uint16_t)d[0] << 8) | d[1]);
    temperature = (int16_t)(((uint16_t)(d[2] & 0x7F) << 8) | d[3]);
    if (d[2] & 0x80) temperature = (int16_t)-temperature;
  }
  fw_reply_dht_read(pin, dht11 ? "dht11" : "dht22", temperature, humidity);
}
