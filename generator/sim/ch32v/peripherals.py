"""The CH32V203's peripherals as the simulator models them, in simulated CPU cycles.

Each block answers the word-wide reads and writes the bus hands it (`Machine` splits byte and
half-word accesses); `peek` reads without the side effects a read has (RXNE cleared by DATAR).
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

from generator.sim.ch32v import chip

Emit = Callable[[str], None]


class Block:
    """Registers that hold what is written and read it back."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.regs: dict[int, int] = {}

    def peek(self, offset: int) -> int:
        return self.regs.get(offset, 0)

    def read(self, offset: int, now: int) -> int:
        return self.peek(offset)

    def write(self, offset: int, value: int, now: int) -> None:
        self.regs[offset] = value


class Rcc(Block):
    """Clock control: every oscillator and the PLL are ready as soon as enabled, the switch
    status follows the switch; enough for SystemInit and the core's clock queries."""

    def __init__(self) -> None:
        super().__init__("RCC")
        self.regs[chip.RCC_CTLR] = chip.RCC_CTLR_RESET

    def peek(self, offset: int) -> int:
        value = self.regs.get(offset, 0)
        if offset == chip.RCC_CTLR:
            for enable, ready in chip.RCC_READY:
                value = value | ready if value & enable else value & ~ready
        elif offset == chip.RCC_CFGR0:
            value = (value & ~0xC) | ((value & 3) << 2)
        elif offset == chip.RCC_RSTSCKR and value & 1:
            value |= 2  # LSIRDY follows LSION
        return value

    def hclk(self, exten_ctr: int) -> int:
        """The CPU clock the firmware selected (SW, the PLL's source and factor, HPRE)."""
        cfgr = self.regs.get(chip.RCC_CFGR0, 0)
        switch = cfgr & 3
        if switch == 2:
            if cfgr & chip.PLL_SOURCE_HSE:
                source = chip.HSE_HZ // (2 if cfgr & chip.PLL_HSE_HALF else 1)
            else:
                source = chip.HSI_HZ // (1 if exten_ctr & chip.EXTEN_PLL_HSI_PRE else 2)
            sysclk = source * chip.PLL_MUL[(cfgr >> chip.PLL_MUL_SHIFT) & 15]
        else:
            sysclk = chip.HSE_HZ if switch == 1 else chip.HSI_HZ
        return int(sysclk // chip.AHB_PRESCALER.get((cfgr >> 4) & 15, 1))

    def apb_divider(self, bus: int) -> int:
        """PCLK1 or PCLK2 as a divider of HCLK (the CPU clock)."""
        bits = (self.regs.get(chip.RCC_CFGR0, 0) >> (8 if bus == 1 else 11)) & 7
        return chip.APB_PRESCALER.get(bits, 1)


class SysTick(Block):
    """The core's 64-bit SysTick: counts up at HCLK (STCLK) or HCLK/8 while STE, sets SR's CNTIF
    when it reaches CMP and, with STRE, starts again from 0; interrupt 12 while CNTIF and STIE."""

    def __init__(self) -> None:
        super().__init__("SysTick")
        self.ctlr = self.sr = self.cmp = 0
        self.base_count = self.base_cycle = 0
        self.next_fire: int | None = None

    def _divider(self) -> int:
        return 1 if self.ctlr & chip.STK_STCLK else 8

    def count(self, now: int) -> int:
        if not self.ctlr & chip.STK_STE:
            return self.base_count
        ticks = (now - self.base_cycle) // self._divider()
        value = self.base_count + ticks
        if self.ctlr & chip.STK_STRE and self.base_count <= self.cmp:
            value %= self.cmp + 1
        return value & 0xFFFF_FFFF_FFFF_FFFF

    def _restart(self, count: int, now: int) -> None:
        self.base_count, self.base_cycle = count, now
        self.next_fire = None
        if self.ctlr & chip.STK_STE and count <= self.cmp:
            self.next_fire = now + (self.cmp - count) * self._divider()

    def _register(self, offset: int, count: int) -> int:
        if offset == chip.STK_CTLR:
            return self.ctlr
        if offset == chip.STK_SR:
            return self.sr
        for base, value in ((chip.STK_CNT, count), (chip.STK_CMP, self.cmp)):
            if offset in (base, base + 4):
                return (value >> (32 if offset & 4 else 0)) & 0xFFFF_FFFF
        return 0

    def peek(self, offset: int) -> int:
        return self._register(offset, self.base_count)

    def read(self, offset: int, now: int) -> int:
        return self._register(offset, self.count(now))

    def write(self, offset: int, value: int, now: int) -> None:
        if offset == chip.STK_SR:  # clearing CNTIF leaves the counter alone
            self.sr = value & 1
            return
        current = self.count(now)
        if offset == chip.STK_CTLR:
            self.ctlr = value
        elif offset in (chip.STK_CNT, chip.STK_CNT + 4):
            shift = 32 if offset & 4 else 0
            current = (current & ~(0xFFFF_FFFF << shift)) | (value << shift)
        elif offset in (chip.STK_CMP, chip.STK_CMP + 4):
            shift = 32 if offset & 4 else 0
            self.cmp = (self.cmp & ~(0xFFFF_FFFF << shift)) | (value << shift)
        self._restart(current, now)

    def advance(self, now: int) -> None:
        while self.next_fire is not None and self.next_fire <= now:
            self.sr |= 1
            if self.ctlr & chip.STK_STRE:
                self.next_fire += (self.cmp + 1) * self._divider()
            else:
                self.next_fire = None

    def irq(self) -> bool:
        return bool(self.sr & 1 and self.ctlr & chip.STK_STIE)


class Pfic(Block):
    """WCH's interrupt controller: enable (IENR/IRER), software pending (IPSR/IPRR), priorities
    (IPRIOR: lower is more urgent); CFGR with KEY3 and SYSRST resets the chip."""

    def __init__(self) -> None:
        super().__init__("PFIC")
        self.enabled: set[int] = set()
        self.pending: set[int] = set()
        self.priority = bytearray(256)
        self.reset_requested = False

    @staticmethod
    def _bits(offset: int, base: int, value: int) -> list[int]:
        word = (offset - base) // 4
        return [word * 32 + bit for bit in range(32) if value >> bit & 1]

    def peek(self, offset: int) -> int:
        if chip.PFIC_ISR <= offset < chip.PFIC_ISR + 32:
            return sum(1 << (irq % 32) for irq in self.enabled if irq // 32 == (offset - chip.PFIC_ISR) // 4)
        if chip.PFIC_IPR <= offset < chip.PFIC_IPR + 32:
            return sum(1 << (irq % 32) for irq in self.pending if irq // 32 == (offset - chip.PFIC_IPR) // 4)
        if chip.PFIC_IPRIOR <= offset < chip.PFIC_IPRIOR + 256:
            return int.from_bytes(self.priority[offset - chip.PFIC_IPRIOR:offset - chip.PFIC_IPRIOR + 4], "little")
        return self.regs.get(offset, 0)

    def write(self, offset: int, value: int, now: int) -> None:
        for base, action in ((chip.PFIC_IENR, self.enabled.add), (chip.PFIC_IRER, self.enabled.discard),
                             (chip.PFIC_IPSR, self.pending.add), (chip.PFIC_IPRR, self.pending.discard)):
            if base <= offset < base + 32:
                for irq in self._bits(offset, base, value):
                    action(irq)
                return
        if chip.PFIC_IPRIOR <= offset < chip.PFIC_IPRIOR + 256:
            start = offset - chip.PFIC_IPRIOR
            self.priority[start:start + 4] = value.to_bytes(4, "little")
        elif offset == chip.PFIC_CFGR and value & 0xFFFF_0000 == chip.PFIC_RESET_KEY and value & chip.PFIC_RESET_BIT:
            self.reset_requested = True
        else:
            self.regs[offset] = value


class Usart(Block):
    """USART1/2/3: 8N1 bytes, each taking 10 bit times at the rate BRR gives from its APB clock.

    Sending: DATAR goes to the shift register when it is free (TXE stays set), else waits in
    DATAR (TXE clear); TC rises when the last stop bit has left. Receiving: a byte from the host
    lands in DATAR with RXNE, or sets ORE and is lost when RXNE is still set; reading DATAR
    clears RXNE (and ORE after a STATR read, as on the chip). Interrupt while RXNEIE and
    RXNE/ORE, TXEIE and TXE, or TCIE and TC."""

    def __init__(self, name: str, rcc: Rcc, sent: Callable[[Usart, int, int, int], None],
                 stall: Callable[[], None]) -> None:
        super().__init__(name)
        self.rcc = rcc
        self.sent = sent
        self.stall = stall  # the firmware polls a flag that only the next byte boundary changes
        self.statr = chip.ST_TXE | chip.ST_TC
        self.rdr = 0
        self.status_seen = False
        self.polled_at = -1
        self.shifting: int | None = None
        self.shift_start = self.shift_end = 0
        self.waiting: int | None = None
        self.inbox = bytearray()  # bytes from the host not yet on the wire
        self.next_arrival: int | None = None
        # when the last byte the host has sent so far landed (a text request's '\n', a frame's CRC),
        # until the next byte is sent
        self.request_end_at: int | None = None
        self.latency: Callable[[int, int], None] | None = None  # (cycles, now): that byte -> next DATAR write

    def byte_cycles(self) -> int:
        brr = self.regs.get(chip.USART_BRR, 0) or 16
        return 10 * brr * self.rcc.apb_divider(chip.USART_APB[self.name])

    def _ctlr1(self) -> int:
        return self.regs.get(chip.USART_CTLR1, 0)

    def receiving(self) -> bool:
        ctlr = self._ctlr1()
        return bool(ctlr & chip.C1_UE and ctlr & chip.C1_RE)

    def peek(self, offset: int) -> int:
        if offset == chip.USART_STATR:
            return self.statr
        if offset == chip.USART_DATAR:
            return self.rdr
        return self.regs.get(offset, 0)

    def read(self, offset: int, now: int) -> int:
        value = self.peek(offset)
        if offset == chip.USART_STATR:
            self.status_seen = True
            # a second read in one quantum with the send still busy: a loop waiting for TXE or TC
            if self.shifting is not None and self.polled_at == now:
                self.stall()
            self.polled_at = now
        elif offset == chip.USART_DATAR:
            cleared = chip.ST_RXNE | (chip.ST_ORE | 0x7 if self.status_seen else 0)
            self.statr &= ~cleared
            self.status_seen = False
        return value

    def write(self, offset: int, value: int, now: int) -> None:
        if offset == chip.USART_DATAR:
            if self.request_end_at is not None and self.latency is not None:
                self.latency(now - self.request_end_at, now)
            self.request_end_at = None
            if self._ctlr1() & chip.C1_TE:
                self.statr &= ~chip.ST_TC
                if self.shifting is None:
                    self._shift(value & 0xFF, now)
                else:
                    self.waiting = value & 0xFF
                    self.statr &= ~chip.ST_TXE
            return
        if offset == chip.USART_STATR:
            self.statr &= value | ~(chip.ST_RXNE | chip.ST_TC)  # only RXNE and TC clear by writing 0
            return
        self.regs[offset] = value
        self.schedule(now)

    def _shift(self, byte: int, start: int) -> None:
        self.shifting, self.shift_start = byte, start
        self.shift_end = start + self.byte_cycles()

    def schedule(self, now: int) -> None:
        """Plan the next host byte's arrival, if any is waiting and the receiver is on."""
        if self.next_arrival is None and self.inbox and self.receiving():
            self.next_arrival = now + self.byte_cycles()

    def next_event(self) -> int | None:
        times = [t for t in (self.shift_end if self.shifting is not None else None, self.next_arrival)
                 if t is not None]
        return min(times) if times else None

    def advance(self, now: int) -> None:
        while self.shifting is not None and self.shift_end <= now:
            self.sent(self, self.shifting, self.shift_start, self.shift_end)
            if self.waiting is not None:
                end = self.shift_end
                self._shift(self.waiting, end)
                self.waiting = None
                self.statr |= chip.ST_TXE
            else:
                self.shifting = None
                self.statr |= chip.ST_TC
        while self.next_arrival is not None and self.next_arrival <= now:
            arrival = self.next_arrival
            byte = self.inbox.pop(0)
            if self.statr & chip.ST_RXNE:
                self.statr |= chip.ST_ORE
            else:
                self.rdr = byte
                self.statr |= chip.ST_RXNE
            if not self.inbox:
                self.request_end_at = arrival
            self.next_arrival = arrival + self.byte_cycles() if self.inbox and self.receiving() else None

    def irq(self) -> bool:
        ctlr, st = self._ctlr1(), self.statr
        return bool((ctlr & chip.C1_RXNEIE and st & (chip.ST_RXNE | chip.ST_ORE))
                    or (ctlr & chip.C1_TXEIE and st & chip.ST_TXE) or (ctlr & chip.C1_TCIE and st & chip.ST_TC))


@dataclass
class Dht:
    """A DHT22/DHT11 answering on its pin after the MCU's start pulse (sim/README.md's model)."""

    model: str
    temperature: float
    humidity: float
    cycles_per_us: int
    low_since: int | None = None
    edges: list[tuple[int, int]] = field(default_factory=list)

    def payload(self) -> bytes:
        if self.model == "dht11":
            data = [int(self.humidity), round(self.humidity * 10) % 10,
                    int(abs(self.temperature)), round(abs(self.temperature) * 10) % 10]
        else:
            hum, temp = round(self.humidity * 10), round(abs(self.temperature) * 10)
            data = [hum >> 8, hum & 0xFF, (temp >> 8) | (0x80 if self.temperature < 0 else 0), temp & 0xFF]
        return bytes([*data, sum(data) & 0xFF])

    def mcu_drives(self, low: bool, now: int) -> None:
        if low:
            if self.low_since is None:
                self.low_since = now
            self.edges = []
            return
        started, self.low_since = self.low_since, None
        if started is None or now - started < 800 * self.cycles_per_us:
            return
        us = self.cycles_per_us
        t = now + 30 * us
        edges = [(t, 0), (t + 80 * us, 1)]
        t += 160 * us
        for byte in self.payload():
            for bit in range(7, -1, -1):
                edges += [(t, 0), (t + 50 * us, 1)]
                t += (50 + (70 if byte >> bit & 1 else 27)) * us
        edges += [(t, 0), (t + 50 * us, 1)]
        self.edges = edges

    def level(self, now: int) -> int:
        index = bisect.bisect_right(self.edges, (now, 2)) - 1
        return self.edges[index][1] if index >= 0 else 1

    def next_edge(self, now: int) -> int | None:
        """When the line changes next while the sensor answers, else None."""
        index = bisect.bisect_right(self.edges, (now, 2))
        return self.edges[index][0] if index < len(self.edges) else None


class Gpio(Block):
    """One GPIO port: 16 pins, each configured by 4 bits of CFGLR/CFGHR (MODE 0 input, else
    output; CNF: input analog/floating/pull (OUTDR picks up or down), output push-pull/open-drain/
    alternate function). An output reads back its level; inputs read what the host drives, a
    DHT, a pull-up, else 0. `changed` hears every output level change."""

    def __init__(self, port: str, changed: Callable[[str, int | None], None], stall: Callable[[], None]) -> None:
        super().__init__(f"GPIO{port}")
        self.port = port
        self.changed = changed
        self.stall = stall  # the firmware polls a DHT's line: nothing changes before its next edge
        self.polled_at = -1
        self.regs[chip.GPIO_CFGLR] = self.regs[chip.GPIO_CFGHR] = 0x4444_4444  # floating inputs
        self.driven: dict[int, int] = {}  # pin -> level the host drives
        self.released: set[int] = set()   # pins the host let go: an external pull-up
        self.dht: dict[int, Dht] = {}
        self.outputs: dict[int, int | None] = {}

    def config(self, pin: int) -> tuple[int, int]:
        word = self.regs[chip.GPIO_CFGLR if pin < 8 else chip.GPIO_CFGHR]
        bits = (word >> (4 * (pin % 8))) & 0xF
        return bits & 3, bits >> 2

    def output(self, pin: int) -> int | None:
        """The level the MCU drives as a GPIO output (open drain: only low), else None."""
        mode, cnf = self.config(pin)
        if mode == 0 or cnf >= 2:
            return None
        level = self.regs.get(chip.GPIO_OUTDR, 0) >> pin & 1
        return level if cnf == 0 or level == 0 else None

    def level(self, pin: int, now: int) -> int:
        mode, cnf = self.config(pin)
        driven = self.output(pin)
        if driven is not None:
            return driven
        if mode != 0 and cnf >= 2:
            return 1  # an alternate function (USART TX idle, timer output): not modelled per bit
        if pin in self.driven:
            return self.driven[pin]
        if pin in self.dht:
            return self.dht[pin].level(now)
        if pin in self.released:
            return 1
        if mode == 0 and cnf == 2:
            return self.regs.get(chip.GPIO_OUTDR, 0) >> pin & 1
        return 0

    def read(self, offset: int, now: int) -> int:
        if offset == chip.GPIO_INDR:
            if self.polled_at == now and any(dht.next_edge(now) is not None for dht in self.dht.values()):
                self.stall()
            self.polled_at = now
            return sum(self.level(pin, now) << pin for pin in range(16))
        return self.peek(offset)

    def write(self, offset: int, value: int, now: int) -> None:
        out = self.regs.get(chip.GPIO_OUTDR, 0)
        if offset == chip.GPIO_BSHR:
            out = (out | (value & 0xFFFF)) & ~(value >> 16)
            self.regs[chip.GPIO_OUTDR] = out
        elif offset == chip.GPIO_BCR:
            self.regs[chip.GPIO_OUTDR] = out & ~value & 0xFFFF
        elif offset != chip.GPIO_INDR:
            self.regs[offset] = value
        self.refresh(now)

    def refresh(self, now: int) -> None:
        for pin in range(16):
            level = self.output(pin)
            if pin in self.dht:
                self.dht[pin].mcu_drives(level == 0, now)
            if self.outputs.get(pin) != level:
                self.outputs[pin] = level
                self.changed(f"P{self.port}{pin}", level)


class Adc(Block):
    """ADC1/ADC2 regular conversions: calibration ends at once (offset 0), a software start
    converts SQ1's channel at once into RDATAR with EOC; reading RDATAR clears EOC. Channel
    voltages come from the host (mV, reference 3300 mV, 12 bits)."""

    def __init__(self, name: str, millivolts: dict[int, int]) -> None:
        super().__init__(name)
        self.millivolts = millivolts

    def read(self, offset: int, now: int) -> int:
        value = self.peek(offset)
        if offset == chip.ADC_RDATAR:
            self.regs[chip.ADC_STATR] = self.regs.get(chip.ADC_STATR, 0) & ~chip.ADC_EOC
        return value

    def write(self, offset: int, value: int, now: int) -> None:
        if offset == chip.ADC_CTLR2:
            if value & (chip.ADC_CAL | chip.ADC_RSTCAL):
                self.regs[chip.ADC_RDATAR] = 0
            if value & chip.ADC_SWSTART and value & chip.ADC_ADON:
                channel = self.regs.get(chip.ADC_RSQR3, 0) & 0x1F
                mv = min(max(self.millivolts.get(channel, 0), 0), chip.ADC_REFERENCE_MV)
                self.regs[chip.ADC_RDATAR] = mv * chip.ADC_MAX // chip.ADC_REFERENCE_MV
                self.regs[chip.ADC_STATR] = self.regs.get(chip.ADC_STATR, 0) | chip.ADC_EOC
            value &= ~(chip.ADC_CAL | chip.ADC_RSTCAL | chip.ADC_SWSTART)
        self.regs[offset] = value


class Timer(Block):
    """TIM1-TIM4 as far as PWM goes: registers are kept, the counter does not run; the waveform
    on each channel pin is computed from them (PWM mode 1/2, polarity, prescaler, ATRLR, CHxCVR,
    and for TIM1 the main output enable)."""

    def __init__(self, name: str, rcc: Rcc) -> None:
        super().__init__(name)
        self.rcc = rcc
        self.written_at: int | None = None

    def write(self, offset: int, value: int, now: int) -> None:
        self.regs[offset] = value
        self.written_at = now

    def waveforms(self) -> dict[str, tuple[int, int] | None]:
        """Channel pin -> (high cycles, period cycles) of the PWM it outputs, or None."""
        apb = self.rcc.apb_divider(2 if self.name == "TIM1" else 1)
        clock_div = apb // 2 if apb > 1 else 1  # timer clock = PCLK, or 2 x PCLK when divided
        prescale = (self.regs.get(chip.TIM_PSC, 0) + 1) * clock_div
        period = self.regs.get(chip.TIM_ATRLR, 0) + 1
        running = self.regs.get(chip.TIM_CTLR1, 0) & 1
        if self.name == "TIM1":
            running &= self.regs.get(chip.TIM_BDTR, 0) >> 15
        result: dict[str, tuple[int, int] | None] = {}
        for channel, pin in enumerate(chip.TIMER_PINS[self.name]):
            mode_reg = self.regs.get(chip.TIM_CHCTLR1 if channel < 2 else chip.TIM_CHCTLR2, 0)
            mode = (mode_reg >> (4 + 8 * (channel % 2))) & 7
            ccer = self.regs.get(chip.TIM_CCER, 0) >> (4 * channel)
            if not running or not ccer & 1 or mode not in (6, 7):
                result[pin] = None
                continue
            high = min(self.regs.get(chip.TIM_CHCVR[channel], 0), period)
            if (mode == 7) != bool(ccer & 2):
                high = period - high
            result[pin] = (high * prescale, period * prescale)
        return result
