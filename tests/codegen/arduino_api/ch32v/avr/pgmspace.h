// Host stub of cores/arduino/avr/pgmspace.h. Not verifiable in openwch/arduino_core_ch32
// (not in the index). On this flat-memory core PSTR() is the literal itself, as in the
// stm32duino core it derives from; PROGMEM is empty.
#ifndef __PGMSPACE_H_
#define __PGMSPACE_H_

#define PROGMEM
#define PGM_P  const char *
#define PSTR(str) (str)

#endif
