// Host stub of cores/arduino/HardwareSerial.h of Community-PIO-CH32V/arduino_core_ch32 9cde8bf
// (= openwch 3c6bf0a there; the core PlatformIO installs): the public API of class
// HardwareSerial. What the real bodies (HardwareSerial.cpp) do, which a declaration cannot say:
// - available() and peek() are `return -1;` (openwch issues #142, #251): a sketch testing
//   `Serial.available() > 0` never reads a byte; read() polls the one-byte data register;
// - write() sends on DEBUG_UART (USART1) whatever instance it is called on (openwch #159);
// - the constructor sets PIN_SERIAL_RX/PIN_SERIAL_TX (PA10/PA9) whatever USART it is given;
//   begin() configures the USART its pins belong to (ch32/uart.c uart_init), no interrupt.
// No flush() override, so Serial.flush() is Print's empty flush(). The unmerged PR #201
// (maxint-rd Interrupt-driven-Serial1) is the other core the serial transport supports: it adds
// `#define OPT_USART_INT 1`, a ring buffer and USART1_IRQHandler/USART2_IRQHandler.
#ifndef HardwareSerial_h
#define HardwareSerial_h

#include <inttypes.h>
#include "Stream.h"
#include "PinNames.h"

#define SERIAL_8N1      0x02

class HardwareSerial : public Stream {
  public:
    HardwareSerial(void *peripheral);

    void begin(unsigned long baud);
    void begin(unsigned long, uint8_t);
    void end();

    virtual int available(void);
    virtual int peek(void);
    virtual int read(void);

    virtual size_t write(uint8_t);
    size_t write(unsigned long n);
    size_t write(long n);
    size_t write(unsigned int n);
    size_t write(int n);
    size_t write(const uint8_t *buffer, size_t size);
    using Print::write;
    operator bool();

    void setRx(uint32_t _rx);
    void setTx(uint32_t _tx);
    void setRx(PinName _rx);
    void setTx(PinName _tx);
};

// Declared for every USART the chip has; only the one SERIAL_UART_INSTANCE selects (1 on the
// CH32V203C8 variant) is defined, so naming Serial2 or Serial3 fails at link time.
extern HardwareSerial Serial1;
extern HardwareSerial Serial2;
extern HardwareSerial Serial3;

#endif
