// Host stub of cores/arduino/wiring_time.h (openwch/arduino_core_ch32, read at commit
// 9e5288ad). The real one includes clock.h -> ch32_def.h -> ch32v20x.h -> core_riscv.h,
// which is how NVIC_SystemReset(), SysTick and the USART library reach every sketch (here:
// ch32v20x.h). Real micros() (ch32/clock.c) runs backwards within each millisecond: it
// assumes a down-counting SysTick (openwch issue #65; Community-PIO-CH32V 9cde8bf).
#ifndef _WIRING_TIME_H_
#define _WIRING_TIME_H_

#include "ch32v20x.h"

#ifdef __cplusplus
extern "C" {
#endif

extern uint32_t millis(void) ;
extern uint32_t micros(void) ;
extern void delay(uint32_t ms) ;

// Real: a static inline busy loop on SysTick; the body is not needed for -fsyntax-only.
static inline void delayMicroseconds(uint32_t) __attribute__((always_inline, unused));
static inline void delayMicroseconds(uint32_t us)
{
  (void)us;
}

#ifdef __cplusplus
}
#endif

#endif /* _WIRING_TIME_H_ */
