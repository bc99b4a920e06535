// Host stub of the openwch CH32 Arduino core's Arduino.h, for `g++ -fsyntax-only` only.
// Mirrors openwch/arduino_core_ch32 cores/arduino/Arduino.h (read at commit 098b0468):
// it includes wiring.h and declares setup()/loop() with C linkage. pins_arduino.h and
// the variant's pin names are left out. See README.md for what each header is based on.
#ifndef Arduino_h
#define Arduino_h

#include "wiring.h"

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

extern void setup(void) ;
extern void loop(void) ;

#ifdef __cplusplus
} // extern "C"
#endif // __cplusplus

#endif // Arduino_h
