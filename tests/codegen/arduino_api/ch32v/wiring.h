// Host stub of openwch/arduino_core_ch32 cores/arduino/wiring.h (read at commit 098b0468):
// the same C headers and sub-headers, in the same order (avr/dtostrf.h, binary.h, itoa.h,
// wiring_pulse.h, wiring_shift.h, board.h, WInterrupts.h and WMath.h left out).
#ifndef _WIRING_H_
#define _WIRING_H_

#include <stdint.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <math.h>

#include "wiring_analog.h"
#include "wiring_constants.h"
#include "wiring_digital.h"
#include "wiring_time.h"

#ifdef __cplusplus
  #include "WSerial.h"
  #include "WString.h"
#endif // __cplusplus

#endif /* _WIRING_H_ */
