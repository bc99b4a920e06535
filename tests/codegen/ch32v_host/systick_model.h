// Host model of what dht_read_ch32v.cpp uses on the CH32V: SysTick as the openwch core runs it
// (Community-PIO-CH32V/arduino_core_ch32 9cde8bf, cores/arduino/ch32/hw_config.c: CTLR = 0xF,
// CNT counts UP at HCLK from 0 to CMP = SystemCoreClock / 1000 - 1, then restarts at 0;
// system/CH32V20x/SRC/Core/core_riscv.h: SysTick_Type with 64-bit CNT and CMP), and a DHT data
// line whose level is a function of time. Each digitalRead() advances time by model_step counts.
#ifndef SYSTICK_MODEL_H
#define SYSTICK_MODEL_H

#include <stdint.h>

typedef struct {
  volatile uint32_t CTLR;
  volatile uint32_t SR;
  volatile uint64_t CNT;
  volatile uint64_t CMP;
} SysTick_Type;

#define HIGH 1
#define LOW 0

static uint32_t SystemCoreClock = 144000000;
static SysTick_Type model_systick = {0xF, 0, 0, 144000000 / 1000 - 1};
#define SysTick (&model_systick)

static uint64_t model_time = 0;        // HCLK counts since the start
static uint32_t model_step = 40;       // counts per digitalRead() (a loop turn)
static int (*model_line)(uint64_t) = nullptr;

static int digitalRead(uint8_t pin) {
  (void)pin;
  model_time += model_step;
  model_systick.CNT = model_time % (model_systick.CMP + 1);
  return model_line(model_time);
}

#endif
