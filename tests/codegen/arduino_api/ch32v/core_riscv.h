// Host stub of system/CH32V20x/SRC/Core/core_riscv.h of Community-PIO-CH32V/arduino_core_ch32
// 9cde8bf (the core PlatformIO installs; byte-identical to openwch 3c6bf0a here): the types,
// SysTick and the static inline functions a sketch may use. The real bodies write CSRs, the
// PFIC or SysTick; trivial bodies here, same names, types and linkage. Reached, as in the real
// core, through ch32v20x.h after IRQn_Type is declared.
#ifndef __CORE_RISCV_H__
#define __CORE_RISCV_H__

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define     __IO    volatile
typedef __IO uint64_t  vu64;
typedef __IO uint32_t  vu32;
typedef uint64_t u64;
typedef uint32_t u32;

typedef enum {DISABLE = 0, ENABLE = !DISABLE} FunctionalState;
typedef enum {RESET = 0, SET = !RESET} FlagStatus, ITStatus;

#define   RV_STATIC_INLINE  static  inline

// SysTick: a 64-bit counter; the core (ch32/hw_config.c) runs it UP at HCLK from 0 to CMP
// (SystemCoreClock / 1000 - 1) and back to 0, CTLR = 0xF.
typedef struct
{
    __IO u32 CTLR;
    __IO u32 SR;
    __IO u64 CNT;
    __IO u64 CMP;
}SysTick_Type;

#define SysTick         ((SysTick_Type *) 0xE000F000 )

// Real: csrw 0x800, 0x6088 / 0x6000: the whole CSR is written, so these do not nest.
RV_STATIC_INLINE void __enable_irq() {}
RV_STATIC_INLINE void __disable_irq() {}
RV_STATIC_INLINE void __NOP() {}
RV_STATIC_INLINE void NVIC_EnableIRQ(IRQn_Type IRQn) { (void)IRQn; }
RV_STATIC_INLINE void NVIC_DisableIRQ(IRQn_Type IRQn) { (void)IRQn; }
RV_STATIC_INLINE void NVIC_SetPriority(IRQn_Type IRQn, uint8_t priority) { (void)IRQn; (void)priority; }
RV_STATIC_INLINE void NVIC_SystemReset(void) {}

#ifdef __cplusplus
}
#endif

#endif
