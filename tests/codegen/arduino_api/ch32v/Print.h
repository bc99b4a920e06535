// Host stub of cores/arduino/Print.h. openwch/arduino_core_ch32's Print.h is not in the
// index; this follows the fork lopple/arduino_core_ch32 (commit adf6db14, the branch for
// chips other than CH32V00x), and every member below has a definition in openwch's own
// cores/arduino/Print.cpp (commit 3c6bf0a7). No write(char) overload on this core.
#ifndef Print_h
#define Print_h

#include <inttypes.h>
#include <stdio.h>
#include <stdarg.h>

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

    virtual int availableForWrite() { return 0; }

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
    size_t print(const Printable &);

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
    size_t println(const Printable &);
    size_t println(void);

    int printf(const char *format, ...);
    int printf(const __FlashStringHelper *format, ...);
    int vprintf(const __FlashStringHelper *format, va_list ap);
    int vprintf(const char *format, va_list ap);

    // Print.h: empty by default; openwch's HardwareSerial does not override it.
    virtual void flush() { }
};

#endif
