// Host stub of cores/arduino/Stream.h. openwch/arduino_core_ch32's Stream.h is not in the
// index; this follows the fork lopple/arduino_core_ch32 (commit b2117f14, branch for chips
// other than CH32V00x): pure virtual available/read/peek, no flush() of its own.
#ifndef Stream_h
#define Stream_h

#include <inttypes.h>
#include "Print.h"

class Stream : public Print {
  public:
    virtual int available() = 0;
    virtual int read() = 0;
    virtual int peek() = 0;

    Stream() {}

    void setTimeout(unsigned long timeout);
    unsigned long getTimeout(void);

    virtual size_t readBytes(char *buffer, size_t length);
    size_t readBytes(uint8_t *buffer, size_t length);
};

#endif
