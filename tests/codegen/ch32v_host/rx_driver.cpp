// Drives the serial transport's CH32V receive code (compiled as is from definitions/) through
// its interrupt handler on the USART model; prints one "name ok|FAIL ..." line per scenario.
#include <stdio.h>
#include <string.h>

#include "usart_model.h"

USART_TypeDef model_usart;

#include "serial_ch32v_rx.cpp"

static int failures = 0;

static void check(const char* name, bool ok, const char* detail) {
  printf("%s %s %s\n", name, ok ? "ok" : "FAIL", detail);
  if (!ok) failures++;
}

static void reset() {
  memset(&model_usart, 0, sizeof model_usart);
  while (fw_uart_read() >= 0) {}
  fw_uart_overruns = 0;
}

// A byte arrives and the interrupt is taken before the next one (what the NVIC does while the
// handler is short enough).
static void arrive(uint8_t byte) {
  model_line_byte(&model_usart, byte);
  fw_uart_isr();
}

int main() {
  char detail[160];

  // 1. A 250-byte reply written byte by byte at the same baud rate: one byte arrives per byte
  //    sent, each taken by the interrupt while the main loop waits for TXE. None is lost.
  reset();
  for (int i = 0; i < 250; i++) arrive((uint8_t)i);
  int got = 0;
  bool in_order = true;
  for (int c = fw_uart_read(); c >= 0; c = fw_uart_read()) in_order = in_order && c == (got++ & 0xFF);
  snprintf(detail, sizeof detail, "received=%d in_order=%d overruns=%u", got, in_order, (unsigned)fw_uart_overruns);
  check("reply_while_receiving", got == 250 && in_order && fw_uart_overruns == 0, detail);

  // 2. A full ring keeps its 255 bytes and counts every further one as an overrun.
  reset();
  for (int i = 0; i < 300; i++) arrive((uint8_t)i);
  got = 0;
  while (fw_uart_read() >= 0) got++;
  snprintf(detail, sizeof detail, "kept=%d overruns=%u", got, (unsigned)fw_uart_overruns);
  check("ring_full_counts", got == FW_UART_RING - 1 && fw_uart_overruns == 300 - (FW_UART_RING - 1), detail);

  // 3. The handler ran too late: a second byte hit a full data register (ORE). The first byte
  //    is kept, the lost one counted, and both flags are clear afterwards.
  reset();
  model_line_byte(&model_usart, 'a');
  model_line_byte(&model_usart, 'b');
  fw_uart_isr();
  const int first = fw_uart_read();
  snprintf(detail, sizeof detail, "first=%d next=%d overruns=%u statr=0x%04x", first, fw_uart_read(),
           (unsigned)fw_uart_overruns, (unsigned)model_usart.STATR);
  check("hardware_overrun_counted", first == 'a' && fw_uart_overruns == 1 && model_usart.STATR == 0, detail);

  // 4. An interrupt with neither RXNE nor ORE (say TC) takes nothing.
  reset();
  model_usart.STATR = USART_FLAG_TC | USART_FLAG_TXE;
  model_usart.DATAR = 'x';
  fw_uart_isr();
  snprintf(detail, sizeof detail, "read=%d", fw_uart_read());
  check("no_rxne_no_byte", fw_uart_read() == -1 && model_usart.STATR == (USART_FLAG_TC | USART_FLAG_TXE), detail);

  // 5. Interleaved: loop() drains while bytes keep arriving; the ring wraps many times.
  reset();
  int next_in = 0, next_out = 0;
  bool ordered = true;
  while (next_in < 5000) {
    for (int k = 0; k < 5 && next_in < 5000; k++) arrive((uint8_t)(next_in++ * 7));
    for (int k = 0; k < 7; k++) {
      const int c = fw_uart_read();
      if (c < 0) break;
      ordered = ordered && c == (uint8_t)(next_out++ * 7);
    }
  }
  for (int c = fw_uart_read(); c >= 0; c = fw_uart_read()) ordered = ordered && c == (uint8_t)(next_out++ * 7);
  snprintf(detail, sizeof detail, "in=%d out=%d ordered=%d overruns=%u", next_in, next_out, ordered,
           (unsigned)fw_uart_overruns);
  check("wraps_in_order", next_out == 5000 && ordered && fw_uart_overruns == 0, detail);

  return failures ? 1 : 0;
}
