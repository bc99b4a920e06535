// Host stub of system/CH32V20x/SRC/Peripheral/inc/ch32v20x.h of Community-PIO-CH32V/
// arduino_core_ch32 9cde8bf (reached from Arduino.h through wiring_time.h -> clock.h ->
// ch32_def.h -> ch32yyxx.h): IRQn_Type (the entries of the CH32V203C8's USARTs and SysTick,
// same values), core_riscv.h, USART_TypeDef and the USART instances, the library's USART API
// (ch32v20x_conf.h -> ch32v20x_usart.h) and SystemCoreClock (system_ch32v20x.h).
#ifndef __CH32V20x_H
#define __CH32V20x_H

#include <stdint.h>

typedef enum IRQn
{
    SysTicK_IRQn = 12,
    USART1_IRQn = 53,
    USART2_IRQn = 54,
    USART3_IRQn = 55,
} IRQn_Type;

#include "core_riscv.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct
{
    __IO uint16_t STATR;
    uint16_t      RESERVED0;
    __IO uint16_t DATAR;
    uint16_t      RESERVED1;
    __IO uint16_t BRR;
    uint16_t      RESERVED2;
    __IO uint16_t CTLR1;
    uint16_t      RESERVED3;
    __IO uint16_t CTLR2;
    uint16_t      RESERVED4;
    __IO uint16_t CTLR3;
    uint16_t      RESERVED5;
    __IO uint16_t GPR;
    uint16_t      RESERVED6;
} USART_TypeDef;

#define PERIPH_BASE                             ((uint32_t)0x40000000)
#define APB1PERIPH_BASE                         (PERIPH_BASE)
#define APB2PERIPH_BASE                         (PERIPH_BASE + 0x10000)
#define USART2_BASE                             (APB1PERIPH_BASE + 0x4400)
#define USART3_BASE                             (APB1PERIPH_BASE + 0x4800)
#define USART1_BASE                             (APB2PERIPH_BASE + 0x3800)
#define USART2                                  ((USART_TypeDef *)USART2_BASE)
#define USART3                                  ((USART_TypeDef *)USART3_BASE)
#define USART1                                  ((USART_TypeDef *)USART1_BASE)

// inc/ch32v20x_usart.h
#define USART_IT_RXNE                        ((uint16_t)0x0525)
#define USART_IT_TC                          ((uint16_t)0x0626)
#define USART_FLAG_TXE                       ((uint16_t)0x0080)
#define USART_FLAG_TC                        ((uint16_t)0x0040)
#define USART_FLAG_RXNE                      ((uint16_t)0x0020)
#define USART_FLAG_ORE                       ((uint16_t)0x0008)
void       USART_ITConfig(USART_TypeDef *USARTx, uint16_t USART_IT, FunctionalState NewState);
void       USART_SendData(USART_TypeDef *USARTx, uint16_t Data);
uint16_t   USART_ReceiveData(USART_TypeDef *USARTx);
FlagStatus USART_GetFlagStatus(USART_TypeDef *USARTx, uint16_t USART_FLAG);

// USER/system_ch32v20x.h
extern uint32_t SystemCoreClock;

#ifdef __cplusplus
}
#endif

#endif
