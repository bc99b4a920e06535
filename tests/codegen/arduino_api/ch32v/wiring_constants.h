// Host stub of openwch/arduino_core_ch32 cores/arduino/wiring_constants.h (read at commit
// 098b0468): pin modes, levels, interrupts()/noInterrupts() and the typedefs.
#ifndef _WIRING_CONSTANTS_
#define _WIRING_CONSTANTS_

#include <stdbool.h>
#include <stdint.h>

#define INPUT               0x0
#define OUTPUT              0x1
#define INPUT_PULLUP        0x2

#define INPUT_FLOATING      INPUT
#define INPUT_PULLDOWN      0x3
#define INPUT_ANALOG        0x4
#define OUTPUT_OD           0x5

#define LOW     0x0
#define HIGH    0x1

// __enable_irq/__disable_irq: static inline functions of core_riscv.h (see that stub).
#define interrupts() __enable_irq()
#define noInterrupts() __disable_irq()

typedef unsigned int word;

typedef bool boolean __attribute__((deprecated));

typedef uint8_t byte ;

#endif /* _WIRING_CONSTANTS_ */
