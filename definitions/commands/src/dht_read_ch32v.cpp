// DHT single-wire pulse timing on CH32V: SysTick's counter, which the core runs up at HCLK from 0
// to CMP and back to 0 every millisecond (Community-PIO-CH32V/arduino_core_ch32 9cde8bf,
// cores/arduino/ch32/hw_config.c: CTLR = 0xF). It does not depend on the millisecond tick: the
// core's micros() runs backwards within each millisecond there (openwch issue #65). Returns the
// pulse length in SysTick counts (at least 1), or 0 after 200 us, as the AVR code does.
// Interrupts stay on (dht_lock is empty): a pulse is shorter than a SysTick period, interrupt
// handlers take a microsecond or two, and the serial receive interrupt must keep running.
static uint8_t dht_pin;

static void dht_lock() {}
static void dht_unlock() {}

static uint16_t dht_pulse(uint8_t level) {
  const uint32_t period = (uint32_t)SysTick->CMP + 1;
  const uint32_t limit = SystemCoreClock / 5000;  // 200 us: 28800 counts at 144 MHz, fits uint16_t
  const uint32_t start = (uint32_t)SysTick->CNT;
  uint32_t length = 0;
  while (digitalRead(dht_pin) == (level ? HIGH : LOW)) {
    const uint32_t now = (uint32_t)SysTick->CNT;
    length = now >= start ? now - start : period - start + now;
    if (length >= limit) return 0;
  }
  return length ? (uint16_t)length : 1;
}

static void dht_select(uint8_t pin) {
  dht_pin = pin;
}
