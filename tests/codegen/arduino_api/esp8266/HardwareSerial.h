// Host stub of esp8266/Arduino cores/esp8266/HardwareSerial.h (read at commit 9b2e528a).
#ifndef HardwareSerial_h
#define HardwareSerial_h

#include <inttypes.h>
#include "Stream.h"

// HardwareSerial.h: SerialConfig/SerialMode, one member each. Their values come from
// uart.h (UART_8N1, UART_FULL), which was not read: only the names and types matter here.
enum SerialConfig {
    SERIAL_8N1,
};

enum SerialMode {
    SERIAL_FULL,
};

class HardwareSerial: public Stream
{
public:
    HardwareSerial(int uart_nr);
    virtual ~HardwareSerial() {}

    void begin(unsigned long baud);
    void begin(unsigned long baud, SerialConfig config);
    void begin(unsigned long baud, SerialConfig config, SerialMode mode);
    void begin(unsigned long baud, SerialConfig config, SerialMode mode, uint8_t tx_pin);
    void end();

    int available(void) override;
    int peek(void) override;
    int read(void) override;
    void flush(void) override;
    size_t write(uint8_t c) override;
    size_t write(const uint8_t *buffer, size_t size) override;
    using Print::write;
    operator bool() const;
    // 3.1.2: true once the receive ring or FIFO overflowed since the last call (which clears it).
    bool hasOverrun(void);
};

extern HardwareSerial Serial;
extern HardwareSerial Serial1;

#endif
