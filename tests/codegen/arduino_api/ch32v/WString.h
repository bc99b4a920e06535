// Host stub of cores/arduino/WString.h. Not verifiable in openwch/arduino_core_ch32: that
// file is not in the index. openwch's Print.cpp does take `const __FlashStringHelper*`
// (so the type exists); F() is written as in stm32duino/Arduino_Core_STM32's WString.h,
// from which this core derives. Caution: the one CH32 fork whose WString.h is indexed
// (morpheby/arduino_core_ch32) names the macro _F(), not F(). Only String's converting
// constructors are declared, for faithful overload resolution in Print.
#ifndef String_class_h
#define String_class_h
#ifdef __cplusplus

#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <avr/pgmspace.h>

class __FlashStringHelper;
#define F(string_literal) (reinterpret_cast<const __FlashStringHelper *>(PSTR(string_literal)))

class StringSumHelper;

class String {
    public:
        String(const char *cstr = "");
        String(const String &str);
        String(const __FlashStringHelper *str);
        String(String &&rval);
        String(StringSumHelper &&rval);
        explicit String(char c);
        explicit String(unsigned char, unsigned char base = 10);
        explicit String(int, unsigned char base = 10);
        explicit String(unsigned int, unsigned char base = 10);
        explicit String(long, unsigned char base = 10);
        explicit String(unsigned long, unsigned char base = 10);
        explicit String(float, unsigned char decimalPlaces = 2);
        explicit String(double, unsigned char decimalPlaces = 2);
        ~String(void);
        const char *c_str() const;
        unsigned int length(void) const;
};

#endif  // __cplusplus
#endif  // String_class_h
