// Host stub of cores/arduino/Printable.h. Not verifiable in openwch/arduino_core_ch32 (not
// in the index); openwch's Print.cpp calls x.printTo(*this) on a `const Printable &`,
// which this declaration matches (the Arduino-wide Printable interface).
#ifndef Printable_h
#define Printable_h

#include <stdlib.h>

class Print;

class Printable {
  public:
    virtual size_t printTo(Print &p) const = 0;
};

#endif
