// Host stub of the ESP8266 Arduino core's Arduino.h, for `g++ -fsyntax-only` only.
// Mirrors esp8266/Arduino cores/esp8266/Arduino.h (read at commit 802d2282, unchanged
// in these lines at 0228f21e): the same C headers, constants and prototypes, no bodies.
// Only the API a generated sketch may use is declared; see README.md.
#ifndef Arduino_h
#define Arduino_h

#ifdef __cplusplus
extern "C" {
#endif

// The C headers the real Arduino.h includes (newlib there, the host's libc here).
#include <stdlib.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

// Arduino.h: levels and pin modes.
#define HIGH 0x1
#define LOW  0x0

#define INPUT             0x00
#define INPUT_PULLUP      0x02
#define INPUT_PULLDOWN_16 0x04
#define OUTPUT            0x01
#define OUTPUT_OPEN_DRAIN 0x03

// Arduino.h: interrupts() / noInterrupts() are xt_rsil(level), a statement expression
// around the Xtensa `rsil` instruction that yields the old PS as uint32_t. Same shape
// here; the asm text is a comment, never assembled with -fsyntax-only.
#ifndef __STRINGIFY
#define __STRINGIFY(a) #a
#endif
#define xt_rsil(level) (__extension__({uint32_t state; __asm__ __volatile__("# rsil %0," __STRINGIFY(level) : "=r" (state) :: "memory"); state;}))
#define interrupts() xt_rsil(0)
#define noInterrupts() xt_rsil(15)

// Arduino.h: typedefs.
typedef uint16_t word;
typedef bool boolean;
typedef uint8_t byte;

// Arduino.h: digital, analog and time functions (declared inside extern "C").
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);
int analogRead(uint8_t pin);
void analogWrite(uint8_t pin, int val);
void analogWriteFreq(uint32_t freq);
void analogWriteRange(uint32_t range);

unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long);
void delayMicroseconds(unsigned int us);

void setup(void);
void loop(void);
void yield(void);

#ifdef __cplusplus
} // extern "C"
#endif

#ifdef __cplusplus
// Arduino.h includes these C++ headers, in this order (Updater.h and debug.h left out).
#include <pgmspace.h>
#include "WString.h"
#include "HardwareSerial.h"
#include "Esp.h"
#endif

#endif // Arduino_h
