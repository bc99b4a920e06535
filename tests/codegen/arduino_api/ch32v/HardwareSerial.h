// Host stub of openwch/arduino_core_ch32 cores/arduino/HardwareSerial.h (read at commit
// 306350fc): the public API of class HardwareSerial (its public buffer members left out).
// Note: no flush() override, so Serial.flush() is Print's empty flush() on this core.
#ifndef HardwareSerial_h
#define HardwareSerial_h

#include <inttypes.h>
#include "Stream.h"

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
};

// HardwareSerial.h: one object per USART the chip has (the CH32V203C8 has USART1-3).
extern HardwareSerial Serial1;
extern HardwareSerial Serial2;
extern HardwareSerial Serial3;

#endif
