// Drives the CH32V DHT pulse timing (definitions/commands/src/dht_read_ch32v.cpp, compiled as
// is) on the SysTick model: pulses are measured across the millisecond wrap of SysTick's
// counter, a 0 bit's high pulse is shorter than its low one and a 1 bit's longer, and a line
// stuck for 200 us times out (0), as on AVR. One "name ok|FAIL detail" line per scenario.
#include <stdio.h>

#include "systick_model.h"
#include "dht_read_ch32v.cpp"

static int failures = 0;
static uint64_t edge = 0;   // the line is HIGH before `edge`, LOW after (or the reverse)
static int before = HIGH;

static int line(uint64_t t) { return t < edge ? before : !before; }

static void check(const char* name, bool ok, uint32_t got) {
  printf("%s %s counts=%u\n", name, ok ? "ok" : "FAIL", (unsigned)got);
  if (!ok) failures++;
}

// A pulse of `us` microseconds at `level`, starting `offset` counts before a SysTick wrap.
static uint16_t pulse(int level, uint32_t us, uint64_t offset) {
  const uint64_t period = model_systick.CMP + 1;
  model_time = 10 * period - offset;
  model_systick.CNT = model_time % period;
  before = level;
  edge = model_time + (uint64_t)us * (SystemCoreClock / 1000000);
  return dht_pulse((uint8_t)level);
}

int main() {
  model_line = line;
  dht_select(2);
  dht_lock();
  const uint16_t zero_high = pulse(HIGH, 27, 1000);   // 27 us high: a 0 bit, across the wrap
  const uint16_t bit_low = pulse(LOW, 50, 0);          // 50 us low before every bit
  const uint16_t one_high = pulse(HIGH, 70, 5000);     // 70 us high: a 1 bit, across the wrap
  dht_unlock();
  check("zero_bit_shorter", zero_high > 0 && zero_high < bit_low, zero_high);
  check("one_bit_longer", one_high > bit_low, one_high);
  const uint32_t expected = 70u * 144u;
  check("length_in_hclk_counts", one_high + model_step >= expected && one_high <= expected, one_high);
  check("timeout_after_200us", pulse(HIGH, 250, 100) == 0, 0);
  check("no_timeout_at_190us", pulse(LOW, 190, 20000) != 0, 0);
  return failures ? 1 : 0;
}
