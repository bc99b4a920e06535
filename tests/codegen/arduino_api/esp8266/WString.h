// Host stub of esp8266/Arduino cores/esp8266/WString.h (read at commit fdfd93e2).
// Declares __FlashStringHelper, FPSTR/F, and String's converting constructors only, so
// that overload resolution of Print::print(const String&) is the real one.
#ifndef String_class_h
#define String_class_h
#ifdef __cplusplus

#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <pgmspace.h>

// WString.h: an incomplete class, only ever used through pointers.
class __FlashStringHelper;
#define FPSTR(pstr_pointer) (reinterpret_cast<const __FlashStringHelper *>(pstr_pointer))
#define F(string_literal) (FPSTR(PSTR(string_literal)))

class StringSumHelper;

// WString.h: class String, constructors (the numeric ones are explicit) and c_str().
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
        const char* c_str() const;
        unsigned int length(void) const;
};

extern const String emptyString;

#endif  // __cplusplus
#endif  // String_class_h
