// Host stub of esp8266/Arduino cores/esp8266/Client.h. The stored text (commit a86c97d1)
// is older than the WiFiClient.h it pairs with, whose connect() overloads are marked
// `override`; they are pure virtual here, as that requires.
#ifndef client_h
#define client_h
#include "Print.h"
#include "Stream.h"
#include "IPAddress.h"

class Client: public Stream {
    public:
        virtual int connect(IPAddress ip, uint16_t port) = 0;
        virtual int connect(const char *host, uint16_t port) = 0;
        virtual size_t write(uint8_t) = 0;
        virtual size_t write(const uint8_t *buf, size_t size) = 0;
        virtual int available() = 0;
        virtual int read() = 0;
        virtual int read(uint8_t *buf, size_t size) = 0;
        virtual int peek() = 0;
        virtual void flush() = 0;
        virtual void stop() = 0;
        virtual uint8_t connected() = 0;
        virtual operator bool() = 0;
};

#endif
