// Host stub of <pgmspace.h> as the ESP8266 core's Arduino.h includes it (newlib-xtensa
// sys/pgmspace.h in the core's SDK). Not read from source: the PSTR() shape below is
// taken from preprocessed ESP8266 sketches found in the index (see README.md).
#ifndef __PGMSPACE_H_
#define __PGMSPACE_H_

#include <stdint.h>

#define PROGMEM
#define PGM_P const char *

// PSTR(s): a static const char array inside a statement expression, as on the real
// core, so F() is only usable inside a function body there and here. The real one adds
// a unique .irom0.pstr section attribute, left out (it only matters to the linker).
#define PSTR(s) (__extension__({static const char __pstr__[] __attribute__((__aligned__(4))) = (s); &__pstr__[0];}))

#endif
