// Host stub of esp8266/Arduino cores/esp8266/Printable.h (read at commit 2c34d84f).
#ifndef Printable_h
#define Printable_h

#include <stdlib.h>

class Print;

class Printable {
    public:
        virtual size_t printTo(Print& p) const = 0;
};

#endif
