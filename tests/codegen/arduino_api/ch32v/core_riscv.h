// Host stub of openwch/arduino_core_ch32 system/CH32V20x/SRC/Core/core_riscv.h (read at
// commit 098b0468): the static inline functions a sketch may call. The real bodies write
// CSRs or the PFIC; trivial bodies here, same names, types and linkage.
#ifndef __CORE_RISCV_H__
#define __CORE_RISCV_H__

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define   RV_STATIC_INLINE  static  inline

RV_STATIC_INLINE void __enable_irq() {}
RV_STATIC_INLINE void __disable_irq() {}
RV_STATIC_INLINE void __NOP() {}
RV_STATIC_INLINE void NVIC_SystemReset(void) {}

#ifdef __cplusplus
}
#endif

#endif
