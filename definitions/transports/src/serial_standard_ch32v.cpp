// serial_standard on CH32V (openwch Arduino core): {{ uart.name }}, RX pin {{ uart.rx }}, TX pin {{ uart.tx }}.
// The core's HardwareSerial cannot receive (Community-PIO-CH32V/arduino_core_ch32 9cde8bf,
// cores/arduino/HardwareSerial.cpp: available() is `return -1;`, read() polls the one-byte data
// register) and sends every instance's bytes to USART1. So this transport lets the core set the
// USART up (clocks, pins, baud rate: HardwareSerial::begin), then owns both directions: the
// interrupt-driven ring above for receiving, the data register for sending.
// With openwch PR #201 (interrupt-driven Serial, OPT_USART_INT) the core defines
// USART1_IRQHandler/USART2_IRQHandler itself for Serial1/Serial2: on those, its ring is used.
// That ring overwrites itself when full and cannot tell: there, only the window declared in INFO
// (and checksummed requests) protect against lost bytes.
{% if RS485_DE_PIN >= 0 %}
// RS-485: pin {{ RS485_DE_PIN }} enables the transceiver's driver only while a reply is sent.
{% endif %}
class FwUart : public Print {
 public:
  using Print::write;
  size_t write(uint8_t c) override {
{% if RS485_DE_PIN >= 0 %}
    if (!sending_) {
      digitalWrite({{ RS485_DE_PIN }}, HIGH);
      sending_ = true;
    }
{% endif %}
    while (USART_GetFlagStatus(FW_UART, USART_FLAG_TXE) == RESET) {}
    USART_SendData(FW_UART, c);
    return 1;
  }
  // Returns once the last byte's stop bit has left.
  void flush() override {
    while (USART_GetFlagStatus(FW_UART, USART_FLAG_TC) == RESET) {}
  }
{% if RS485_DE_PIN >= 0 %}
  // After a reply: wait for its last stop bit, then release the bus.
  void release() {
    if (!sending_) return;
    flush();
    digitalWrite({{ RS485_DE_PIN }}, LOW);
    sending_ = false;
  }

 private:
  bool sending_ = false;
{% endif %}
};
static FwUart fw_uart;

#ifdef FW_UART_CORE_RX
static void fw_serial_begin() {
  FW_UART_CORE_RX.begin({{ BAUD_RATE }});  // PR #201: also enables its receive interrupt
#else
static HardwareSerial fw_uart_setup(FW_UART);

// GCC's RISC-V `interrupt` attribute: the handler saves what it uses and returns with mret.
// (WCH's "WCH-Interrupt-fast" would rely on the core's hardware stacking, but only WCH's GCC
// knows it.) Other compilers, such as the host's for the tests' syntax check, get none.
#if defined(__riscv)
#define FW_UART_INTERRUPT __attribute__((interrupt))
#else
#define FW_UART_INTERRUPT
#endif

static uint16_t fw_uart_waiting() {
  return (uint16_t)((fw_uart_head - fw_uart_tail) & (FW_UART_RING - 1));
}

static uint32_t fw_uart_overruns_seen = 0;

// The next received byte, or -1; a new overrun first marks the bytes after those waiting as lost
// (counted before the ring is measured: the loss is never placed after where it happened).
static int fw_uart_next() {
  const uint32_t overruns = fw_uart_overruns;
  if (overruns != fw_uart_overruns_seen) {
    fw_uart_overruns_seen = overruns;
    fw_rx_lost(fw_uart_waiting());
  }
  return fw_uart_read();
}

extern "C" void {{ uart.name }}_IRQHandler(void) FW_UART_INTERRUPT;
extern "C" void {{ uart.name }}_IRQHandler(void) {
  fw_uart_isr();
}

static void fw_serial_begin() {
  fw_uart_setup.setRx((uint32_t){{ uart.rx }});
  fw_uart_setup.setTx((uint32_t){{ uart.tx }});
  fw_uart_setup.begin({{ BAUD_RATE }});
  USART_ITConfig(FW_UART, USART_IT_RXNE, ENABLE);  // also raised by an overrun
  NVIC_SetPriority({{ uart.name }}_IRQn, 0x40);  // above the core's SysTick (0xFF)
  NVIC_EnableIRQ({{ uart.name }}_IRQn);
#endif
{% if RS485_DE_PIN >= 0 %}
  pinMode({{ RS485_DE_PIN }}, OUTPUT);
  digitalWrite({{ RS485_DE_PIN }}, LOW);
{% endif %}
  fw_out = &fw_uart;
}

static void fw_serial_poll() {
#ifdef FW_UART_CORE_RX
  while (FW_UART_CORE_RX.available() > 0) fw_feed((char)FW_UART_CORE_RX.read());
#else
  for (int c = fw_uart_next(); c >= 0; c = fw_uart_next()) fw_feed((char)c);
#endif
{% if RS485_DE_PIN >= 0 %}
  fw_uart.release();
{% endif %}
}
