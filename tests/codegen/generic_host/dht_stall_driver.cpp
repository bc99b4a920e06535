// Drives the micros()-timed DHT pulse code (definitions/commands/src/dht_read_generic.cpp, compiled
// as is; ESP8266 uses it) with interrupts ON: a model clock in nanoseconds, a DHT line whose level
// is a function of time, and one interrupt handler of `stall` us landing at every possible point of
// a bit. Every 0 bit must still read as a high pulse shorter than its low one, every 1 bit as
// longer, for handlers up to 9 us; a stuck line still times out after 200 us.
// One "name ok|FAIL detail" line per scenario.
#include <stdint.h>
#include <stdio.h>

#define HIGH 1
#define LOW 0

static uint64_t model_ns = 0;            // time since the start
static uint64_t stall_at = UINT64_MAX;   // when the interrupt handler runs
static uint64_t stall_ns = 0;            // and for how long
static uint64_t fall = 0, rise = 0;      // the bit: low from `fall`, high from `rise`, low again at `end`
static uint64_t end = 0;

static uint32_t micros() {
  return (uint32_t)(model_ns / 1000);
}

// One poll of the line: ~0.4 us on an 80 MHz ESP8266; the handler runs when its time comes.
static int digitalRead(uint8_t pin) {
  (void)pin;
  model_ns += 400;
  if (model_ns >= stall_at) {
    model_ns += stall_ns;
    stall_at = UINT64_MAX;
  }
  return model_ns >= rise && model_ns < end ? HIGH : LOW;
}

#include "dht_read_generic.cpp"

static int failures = 0;

// Reads one bit (50 us low, then `high_us` high) with a `stall_us` handler `at_us` into it.
static bool bit_reads(uint32_t high_us, uint32_t stall_us, uint32_t at_us) {
  model_ns = 1000000;
  fall = model_ns;
  rise = fall + 50000;
  end = rise + (uint64_t)high_us * 1000;
  stall_at = fall + (uint64_t)at_us * 1000;
  stall_ns = (uint64_t)stall_us * 1000;
  const uint16_t low = dht_pulse(LOW);
  const uint16_t high = dht_pulse(HIGH);
  return low && high && (high_us > 50 ? high > low : high < low);
}

static void scenario(const char* name, uint32_t high_us, uint32_t stall_us) {
  uint32_t bad = 0;
  for (uint32_t at = 0; at < 50 + high_us; at++) {
    if (!bit_reads(high_us, stall_us, at)) bad++;
  }
  printf("%s %s wrong_at=%u\n", name, bad ? "FAIL" : "ok", (unsigned)bad);
  if (bad) failures++;
}

int main() {
  dht_select(2);
  dht_lock();
  scenario("zero_bit_no_interrupt", 27, 0);
  scenario("one_bit_no_interrupt", 70, 0);
  scenario("zero_bit_uart_interrupt", 27, 3);
  scenario("one_bit_uart_interrupt", 70, 3);
  scenario("zero_bit_9us_interrupt", 27, 9);
  scenario("one_bit_9us_interrupt", 70, 9);
  model_ns = 5000000;
  fall = 0;
  rise = 0;
  end = UINT64_MAX;  // stuck high
  stall_at = UINT64_MAX;
  const bool timeout = dht_pulse(HIGH) == 0;
  printf("timeout_after_200us %s\n", timeout ? "ok" : "FAIL");
  if (!timeout) failures++;
  dht_unlock();
  return failures ? 1 : 0;
}
