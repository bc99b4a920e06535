// Host stub of cores/esp8266/Stream.h as in core 3.x: the index holds esp8266/Arduino's
// path only at an older commit (92ffc467); this follows the 3.x text found by content
// (index id 114689025, repository not named by the index). Pure virtuals and read
// overloads only; the parsing and send*() helpers are left out.
#ifndef Stream_h
#define Stream_h

#include <inttypes.h>
#include "Print.h"

class Stream: public Print {
    public:
        virtual int available() = 0;
        virtual int read() = 0;
        virtual int peek() = 0;

        Stream() {}
        virtual ~Stream() {}

        void setTimeout(unsigned long timeout);

        virtual size_t readBytes(char *buffer, size_t length);
        virtual size_t readBytes(uint8_t *buffer, size_t length);

        virtual int read (uint8_t* buffer, size_t len);
        int read (char* buffer, size_t len);
};

#endif
