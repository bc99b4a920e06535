#ifndef FW_UART_CORE_RX
// Receive path of serial_standard on CH32V: FW_UART's receive interrupt puts each byte into a
// ring that loop() drains, so no byte is lost while a reply is being written (the USART holds
// one byte; at 2,000,000 baud the next one follows 5 us later). The handler reads STATR, then
// DATAR (USART_ReceiveData): that sequence clears RXNE and the error flags ORE, NE, FE and PE
// (the STM32F1-compatible USART of the CH32V20x). A byte the USART overwrote (ORE) or the full
// ring had to drop counts in fw_uart_overruns. The ring is single-producer (the interrupt moves
// head), single-consumer (loop() moves tail); both indexes are 16-bit, read and written whole.
#define FW_UART_RING 256  // a power of two; longer than any reply sent at the same baud rate
static volatile uint8_t fw_uart_ring[FW_UART_RING];
static volatile uint16_t fw_uart_head = 0;
static volatile uint16_t fw_uart_tail = 0;
static volatile uint32_t fw_uart_overruns = 0;

static void fw_uart_isr() {
  const uint16_t status = FW_UART->STATR;
  if (!(status & (USART_FLAG_RXNE | USART_FLAG_ORE))) return;
  const uint8_t byte = (uint8_t)USART_ReceiveData(FW_UART);
  uint32_t lost = (status & USART_FLAG_ORE) ? 1 : 0;
  const uint16_t head = fw_uart_head;
  const uint16_t next = (uint16_t)((head + 1) & (FW_UART_RING - 1));
  if (next == fw_uart_tail) {
    lost++;
  } else {
    fw_uart_ring[head] = byte;
    fw_uart_head = next;
  }
  if (lost) fw_uart_overruns = fw_uart_overruns + lost;
}

// The next received byte, or -1 when the ring is empty.
static int fw_uart_read() {
  const uint16_t tail = fw_uart_tail;
  if (tail == fw_uart_head) return -1;
  const uint8_t byte = fw_uart_ring[tail];
  fw_uart_tail = (uint16_t)((tail + 1) & (FW_UART_RING - 1));
  return byte;
}
#endif
