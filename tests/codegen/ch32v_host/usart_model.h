// Host model of one CH32V20x USART, as the serial transport's receive code uses it
// (definitions/transports/src/serial_ch32v_rx.cpp). Names, layout and bit values are those of
// WCH's peripheral library in Community-PIO-CH32V/arduino_core_ch32 9cde8bf:
// system/CH32V20x/SRC/Peripheral/inc/ch32v20x.h (USART_TypeDef: 16-bit registers each followed
// by 16 reserved bits; STATR bits) and inc/ch32v20x_usart.h (USART_FLAG_*), src/ch32v20x_usart.c
// (USART_ReceiveData returns DATAR & 0x1FF).
// Behaviour modelled (the STM32F1-compatible USART): a byte arriving while RXNE is still set is
// lost and sets ORE (DATAR keeps the unread byte); reading STATR then DATAR clears RXNE, ORE,
// NE, FE and PE. With RXNEIE set, RXNE or ORE raise the interrupt.
#ifndef USART_MODEL_H
#define USART_MODEL_H

#include <stdint.h>

typedef struct {
  volatile uint16_t STATR;
  uint16_t RESERVED0;
  volatile uint16_t DATAR;
  uint16_t RESERVED1;
  volatile uint16_t BRR;
  uint16_t RESERVED2;
  volatile uint16_t CTLR1;
  uint16_t RESERVED3;
} USART_TypeDef;

#define USART_FLAG_PE ((uint16_t)0x0001)
#define USART_FLAG_FE ((uint16_t)0x0002)
#define USART_FLAG_NE ((uint16_t)0x0004)
#define USART_FLAG_ORE ((uint16_t)0x0008)
#define USART_FLAG_RXNE ((uint16_t)0x0020)
#define USART_FLAG_TC ((uint16_t)0x0040)
#define USART_FLAG_TXE ((uint16_t)0x0080)

extern USART_TypeDef model_usart;
#define FW_UART (&model_usart)

// The library call the handler makes after reading STATR: the second half of the clearing sequence.
static inline uint16_t USART_ReceiveData(USART_TypeDef* usart) {
  const uint16_t data = (uint16_t)(usart->DATAR & 0x01FF);
  usart->STATR = (uint16_t)(usart->STATR & ~(USART_FLAG_RXNE | USART_FLAG_ORE | USART_FLAG_NE |
                                             USART_FLAG_FE | USART_FLAG_PE));
  return data;
}

// A byte finishing on the RX line.
static inline void model_line_byte(USART_TypeDef* usart, uint8_t byte) {
  if (usart->STATR & USART_FLAG_RXNE) {
    usart->STATR = (uint16_t)(usart->STATR | USART_FLAG_ORE);
    return;
  }
  usart->DATAR = byte;
  usart->STATR = (uint16_t)(usart->STATR | USART_FLAG_RXNE);
}

#endif
