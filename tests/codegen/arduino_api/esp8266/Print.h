// Host stub of esp8266/Arduino cores/esp8266/Print.h (read at commit a34f56ae, core 3.x).
// Every write/print/println overload of the real class is declared, so a call resolves
// (or is ambiguous) exactly as on the real core. No bodies: nothing is linked.
#ifndef Print_h
#define Print_h

#include <stdint.h>
#include <stddef.h>

#include "WString.h"
#include "Printable.h"

#define DEC 10
#define HEX 16
#define OCT 8
#define BIN 2

class Print {
    public:
        Print() {}

        int getWriteError();
        void clearWriteError();

        virtual size_t write(uint8_t) = 0;
        size_t write(const char *str);
        virtual size_t write(const uint8_t *buffer, size_t size);
        size_t write(const char *buffer, size_t size);
        size_t write(short t);
        size_t write(unsigned short t);
        size_t write(int t);
        size_t write(unsigned int t);
        size_t write(long t);
        size_t write(unsigned long t);
        size_t write(long long t);
        size_t write(unsigned long long t);
        size_t write(char c);
        size_t write(int8_t c);

        virtual int availableForWrite() { return 0; }

        size_t printf(const char * format, ...)  __attribute__ ((format (printf, 2, 3)));
        size_t printf_P(PGM_P format, ...) __attribute__((format(printf, 2, 3)));
        size_t print(const __FlashStringHelper *);
        size_t print(const String &);
        size_t print(const char[]);
        size_t print(char);
        size_t print(unsigned char, int = DEC);
        size_t print(int, int = DEC);
        size_t print(unsigned int, int = DEC);
        size_t print(long, int = DEC);
        size_t print(unsigned long, int = DEC);
        size_t print(long long, int = DEC);
        size_t print(unsigned long long, int = DEC);
        size_t print(double, int = 2);
        size_t print(const Printable&);

        size_t println(const __FlashStringHelper *);
        size_t println(const String &s);
        size_t println(const char[]);
        size_t println(char);
        size_t println(unsigned char, int = DEC);
        size_t println(int, int = DEC);
        size_t println(unsigned int, int = DEC);
        size_t println(long, int = DEC);
        size_t println(unsigned long, int = DEC);
        size_t println(long long, int = DEC);
        size_t println(unsigned long long, int = DEC);
        size_t println(double, int = 2);
        size_t println(const Printable&);
        size_t println(void);

        virtual void flush() { }
        virtual bool outputCanTimeout () { return true; }
};

#endif
