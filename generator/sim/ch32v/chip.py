"""Facts of the CH32V203C8 that the simulator models, each with its source.

Addresses and interrupt numbers: the openwch core's device header
(Community-PIO-CH32V/arduino_core_ch32 9cde8bf, system/CH32V20x/SRC/Peripheral/inc/ch32v20x.h,
`*_BASE` and `IRQn`) and system/CH32V20x/SRC/Core/core_riscv.h (PFIC_Type, SysTick_Type).
Register layouts and bits: WCH's CH32FV2x_V3x reference manual (RM V2.x), chapters RCC, GPIO,
USART, ADC, TIM, PFIC and SysTick; they match the bit definitions in the same ch32v20x.h.
"""
from __future__ import annotations

FLASH_SIZE = 64 * 1024
RAM_BASE, RAM_SIZE = 0x2000_0000, 20 * 1024
FLASH_ALIAS = 0x0800_0000  # FLASH_BASE: the code flash seen in the alias region
SYSTEM_FLASH = 0x1FFF_8000  # boot ROM, option bytes (OB_BASE 0x1FFFF800), ESIG (0x1FFFF7E0)
SYSTEM_FLASH_SPAN = 0x8000

PERIPHERALS = 0x4000_0000  # PERIPH_BASE; APB1, APB2 (+0x10000), AHB (+0x20000)
PERIPHERAL_SPAN = 0x3_0000
CORE_PERIPHERALS = 0xE000_E000  # PFIC (0xE000E000) and SysTick (0xE000F000)
CORE_SPAN = 0x2000

# block name -> base address (ch32v20x.h *_BASE); a block is 0x400 bytes
BLOCKS = {
    "TIM2": 0x4000_0000, "TIM3": 0x4000_0400, "TIM4": 0x4000_0800, "TIM5": 0x4000_0C00,
    "RTC": 0x4000_2800, "WWDG": 0x4000_2C00, "IWDG": 0x4000_3000, "SPI2": 0x4000_3800,
    "USART2": 0x4000_4400, "USART3": 0x4000_4800, "UART4": 0x4000_4C00, "I2C1": 0x4000_5400,
    "I2C2": 0x4000_5800, "USBD": 0x4000_5C00, "CAN1": 0x4000_6400, "BKP": 0x4000_6C00, "PWR": 0x4000_7000,
    "AFIO": 0x4001_0000, "EXTI": 0x4001_0400, "GPIOA": 0x4001_0800, "GPIOB": 0x4001_0C00,
    "GPIOC": 0x4001_1000, "GPIOD": 0x4001_1400, "GPIOE": 0x4001_1800, "ADC1": 0x4001_2400,
    "ADC2": 0x4001_2800, "TIM1": 0x4001_2C00, "SPI1": 0x4001_3000, "USART1": 0x4001_3800,
    "DMA1": 0x4002_0000, "RCC": 0x4002_1000, "FLASH": 0x4002_2000, "CRC": 0x4002_3000,
    "EXTEN": 0x4002_3800, "PFIC": 0xE000_E000, "SYSTICK": 0xE000_F000,
}
BLOCK_SIZE = 0x400
CORE_BLOCKS, CORE_BLOCK_SIZE = (0xE000_E000, 0xE000_F000), 0x1000  # PFIC and SysTick: 4 KiB each
# blocks that only hold what the firmware writes: their registers have no effect here
STORAGE_BLOCKS = ("AFIO", "FLASH", "EXTEN", "PWR", "BKP")

# interrupt numbers (IRQn in ch32v20x.h)
IRQ_SYSTICK = 12
IRQ_USART = {"USART1": 53, "USART2": 54, "USART3": 55}

# USART registers (offsets) and bits (RM, USART chapter; STM32F1-compatible)
USART_STATR, USART_DATAR, USART_BRR, USART_CTLR1 = 0x00, 0x04, 0x08, 0x0C
ST_ORE, ST_RXNE, ST_TC, ST_TXE = 1 << 3, 1 << 5, 1 << 6, 1 << 7
C1_RE, C1_TE, C1_RXNEIE, C1_TCIE, C1_TXEIE, C1_UE = 1 << 2, 1 << 3, 1 << 5, 1 << 6, 1 << 7, 1 << 13
USART_APB = {"USART1": 2, "USART2": 1, "USART3": 1}  # USART1 on APB2, the others on APB1

# GPIO registers: CFGLR, CFGHR, INDR, OUTDR, BSHR, BCR
GPIO_CFGLR, GPIO_CFGHR, GPIO_INDR, GPIO_OUTDR, GPIO_BSHR, GPIO_BCR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14
GPIO_PORTS = ("A", "B", "C", "D")

# RCC: CTLR ready bits follow their enable bits; CFGR0's SWS follows SW
RCC_CTLR, RCC_CFGR0, RCC_RSTSCKR = 0x00, 0x04, 0x24
RCC_READY = ((1 << 0, 1 << 1), (1 << 16, 1 << 17), (1 << 24, 1 << 25), (1 << 26, 1 << 27), (1 << 28, 1 << 29))
RCC_CTLR_RESET = 0x0000_0083  # HSION, HSIRDY, HSITRIM 16
HSI_HZ = HSE_HZ = 8_000_000  # the internal RC; an 8 MHz crystal where one is fitted (the BMCU-C has none)
PLL_SOURCE_HSE, PLL_HSE_HALF, PLL_MUL_SHIFT = 1 << 16, 1 << 17, 18  # CFGR0 PLLSRC, PLLXTPRE, PLLMUL
PLL_MUL = (*range(2, 17), 18)  # PLLMUL 0-15 (RCC_PLLMULL2 .. RCC_PLLMULL16, RCC_PLLMULL18)
EXTEN_CTR, EXTEN_PLL_HSI_PRE = 0x00, 1 << 4  # HSI not halved on its way to the PLL
AHB_PRESCALER = {8: 2, 9: 4, 10: 8, 11: 16, 12: 64, 13: 128, 14: 256, 15: 512}  # CFGR0 HPRE
APB_PRESCALER = {4: 2, 5: 4, 6: 8, 7: 16}  # CFGR0 PPRE1 (bits 8-10) and PPRE2 (bits 11-13)

# ADC: STATR, CTLR2, RSQR3 (SQ1 in bits 0-4), RDATAR; EOC, ADON, CAL, RSTCAL, SWSTART
ADC_STATR, ADC_CTLR2, ADC_RSQR3, ADC_RDATAR = 0x00, 0x08, 0x34, 0x4C
ADC_EOC, ADC_ADON, ADC_CAL, ADC_RSTCAL, ADC_SWSTART = 1 << 1, 1 << 0, 1 << 2, 1 << 3, 1 << 22
ADC_REFERENCE_MV, ADC_MAX = 3300, 4095
# ADC channel of each port pin (RM, ADC chapter: ADC_IN0-7 = PA0-PA7, ADC_IN8/9 = PB0/PB1)
ADC_CHANNELS = {f"PA{n}": n for n in range(8)} | {"PB0": 8, "PB1": 9}

# timers: CTLR1 (CEN), CHCTLR1/2 (OCxM), CCER (CCxE, CCxP), PSC, ATRLR, CH1CVR..CH4CVR, BDTR (MOE)
TIM_CTLR1, TIM_CHCTLR1, TIM_CHCTLR2, TIM_CCER, TIM_PSC, TIM_ATRLR = 0x00, 0x18, 0x1C, 0x20, 0x28, 0x2C
TIM_CHCVR = (0x34, 0x38, 0x3C, 0x40)
TIM_BDTR = 0x44
TIMERS = ("TIM1", "TIM2", "TIM3", "TIM4")
# default (not remapped) channel pins, RM's alternate-function table: timer -> CH1..CH4
TIMER_PINS = {"TIM1": ("PA8", "PA9", "PA10", "PA11"), "TIM2": ("PA0", "PA1", "PA2", "PA3"),
              "TIM3": ("PA6", "PA7", "PB0", "PB1"), "TIM4": ("PB6", "PB7", "PB8", "PB9")}

# PFIC (core_riscv.h PFIC_Type) and SysTick (SysTick_Type: CTLR, SR, CNT 64-bit, CMP 64-bit)
PFIC_ISR, PFIC_IPR, PFIC_CFGR, PFIC_IENR, PFIC_IRER = 0x000, 0x020, 0x048, 0x100, 0x180
PFIC_IPSR, PFIC_IPRR, PFIC_IACTR, PFIC_IPRIOR = 0x200, 0x280, 0x300, 0x400
PFIC_RESET_KEY, PFIC_RESET_BIT = 0xBEEF_0000, 1 << 7  # NVIC_SystemReset: CFGR = KEY3 | SYSRST
STK_CTLR, STK_SR, STK_CNT, STK_CMP = 0x00, 0x04, 0x08, 0x10
STK_STE, STK_STIE, STK_STCLK, STK_STRE, STK_MODE = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4

# WCH's CSRs that QEMU's RISC-V core (Unicorn) does not know: INTSYSCR and CORECFGR
WCH_CSRS = (0x804, 0xBC0)
