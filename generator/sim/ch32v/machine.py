"""The CH32V203 machine: a Unicorn RISC-V 32 CPU, the ELF in flash, the peripherals on the bus.

Time is counted in CPU cycles, one per instruction (the QingKe V4B runs most instructions in one
cycle from its zero-wait flash region; branches, loads and divisions take more on the chip, so
simulated code is somewhat faster than real code). The CPU runs in quanta of instructions; a
peripheral sees the time at the start of the current quantum, and quanta end at the next
peripheral event (a USART byte boundary, a SysTick compare, a DHT's edge), so those are exact to
the cycle. A loop that polls a flag only such an event changes (TXE/TC while a byte is sent, a
DHT's line while it answers) ends its quantum early: the time it would have spun is skipped.

What QEMU's RISC-V core (inside Unicorn 2.1) lacks, and this module supplies, each seen failing:
- WCH's CSRs INTSYSCR (0x804) and CORECFGR (0xBC0) are illegal instructions there: the trap is
  caught and the CSR instruction emulated on a small register file;
- `mtvec` mode 3 (WCH's table of absolute handler addresses) is refused: interrupts are taken
  here, between quanta: mepc, mcause, mstatus (MPIE <- MIE, MIE <- 0, MPP <- machine) are set
  and the CPU continues at the word at `_vector_base + 4 * irq`; the handler's `mret` is QEMU's;
- `mstatus.MPP` starts at U: it is set to machine mode, as WCH parts run.
Interrupts do not nest (MIE is clear in a handler): WCH's hardware nesting and register stacking
are not modelled, which the firmware does not rely on since its handlers are compiled with
`interrupt("machine")` (they save what they use themselves).
"""
from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from pathlib import Path

from unicorn import UC_ARCH_RISCV, UC_HOOK_INTR, UC_MODE_RISCV32, Uc, UcError
from unicorn import riscv_const as rv

from generator.sim.ch32v import chip
from generator.sim.ch32v.peripherals import Adc, Block, Dht, Gpio, Pfic, Rcc, SysTick, Timer, Usart

QUANTUM = 2000       # instructions between two looks at the peripherals, at most
LATENCY_QUANTUM = 50  # from a request's last byte to the reply: the latency report's resolution
ILLEGAL_INSTRUCTION = 2
MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP = 1 << 3, 1 << 7, 3 << 11


class Firmware:
    """The loadable segments and the symbols of a RISC-V ELF32."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        if data[:4] != b"\x7fELF" or data[4] != 1 or struct.unpack_from("<H", data, 18)[0] != 243:
            raise ValueError(f"{path} is not a 32-bit RISC-V ELF")
        self.entry, phoff, shoff = struct.unpack_from("<III", data, 24)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 42)
        self.segments: list[tuple[int, bytes]] = []
        for i in range(phnum):
            kind, offset, _vaddr, paddr, filesz = struct.unpack_from("<IIIII", data, phoff + i * phentsize)
            if kind == 1 and filesz:  # PT_LOAD, at its load address: .data's image sits in flash
                self.segments.append((paddr, data[offset:offset + filesz]))
        self.symbols: dict[str, int] = {}
        sections = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
        for sec in sections:
            if sec[1] == 2:  # SHT_SYMTAB; its sh_link is the string table
                strtab = sections[sec[6]]
                for at in range(sec[4], sec[4] + sec[5], 16):
                    name, value = struct.unpack_from("<II", data, at)
                    end = data.index(b"\0", strtab[4] + name)
                    self.symbols[data[strtab[4] + name:end].decode()] = value


class Machine:
    """One CH32V203 running a firmware. `emit` receives the event lines (`pin PA12 1 @C`, ...)."""

    def __init__(self, elf: Path, freq: int, emit: Callable[[str], None],
                 sent: Callable[[str, int], None], trace_uart: bool = False, latency: str = "") -> None:
        self.firmware = Firmware(elf)
        if "_vector_base" not in self.firmware.symbols:
            raise ValueError(f"{elf} has no _vector_base: not a CH32V firmware of the openwch core")
        self.freq = freq
        self.emit = emit
        self.sent_to_host = sent
        self.trace_uart = trace_uart
        self.latency_uart = latency  # the USART whose reply latency is reported, or ""
        self.now = 0
        self.halted: str | None = None
        self.adc_mv: dict[int, int] = {}
        self.reported: set[str] = set()
        self._power_on()

    # ------------------------------------------------------------------ setup

    def _power_on(self) -> None:
        self.uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        self.uc.mem_map(0, chip.FLASH_SIZE)
        self.uc.mem_map(chip.FLASH_ALIAS, chip.FLASH_SIZE)
        self.uc.mem_map(chip.RAM_BASE, chip.RAM_SIZE)
        for address, image in self.firmware.segments:
            for base in (0, chip.FLASH_ALIAS):
                if address < chip.FLASH_SIZE:
                    self.uc.mem_write(base + address, image)
        for base, span in ((chip.PERIPHERALS, chip.PERIPHERAL_SPAN), (chip.CORE_PERIPHERALS, chip.CORE_SPAN),
                           (chip.SYSTEM_FLASH, chip.SYSTEM_FLASH_SPAN)):
            self.uc.mmio_map(base, span, self._bus_read, base, self._bus_write, base)
        self.uc.hook_add(UC_HOOK_INTR, self._trap)
        self.uc.reg_write(rv.UC_RISCV_REG_MSTATUS, MSTATUS_MPP)
        self.csrs = {csr: 0 for csr in chip.WCH_CSRS}
        self.pc = self.firmware.entry
        self.rcc = Rcc()
        self.systick = SysTick()
        self.pfic = Pfic()
        self.usarts = {name: Usart(name, self.rcc, self._sent, self.uc.emu_stop) for name in chip.IRQ_USART}
        self.gpio = {port: Gpio(port, self._pin_changed, self.uc.emu_stop) for port in chip.GPIO_PORTS}
        self.timers = {name: Timer(name, self.rcc) for name in chip.TIMERS}
        self.pwm: dict[str, tuple[int, int] | None] = {}
        if self.latency_uart:
            self.usarts[self.latency_uart].latency = lambda cycles, now: self.emit(f"latency {cycles} @{now}")
        blocks: dict[str, Block] = {"RCC": self.rcc, "SYSTICK": self.systick, "PFIC": self.pfic,
                                    "ADC1": Adc("ADC1", self.adc_mv), "ADC2": Adc("ADC2", self.adc_mv),
                                    **self.usarts, **self.timers,
                                    **{f"GPIO{port}": gpio for port, gpio in self.gpio.items()}}
        blocks.update({name: Block(name) for name in chip.STORAGE_BLOCKS})
        self.exten = blocks["EXTEN"]
        self.clock = chip.HSI_HZ  # out of reset the chip runs from its HSI
        self.emit(f"clock {self.clock} @{self.now}")
        self.blocks: dict[int, Block] = {chip.BLOCKS[name]: block for name, block in blocks.items()}
        self.unmodelled: dict[int, Block] = {}

    def reset(self) -> None:
        """The chip's reset: CPU, memory and peripherals start over; host-side state stays."""
        inboxes = {name: bytes(usart.inbox) for name, usart in self.usarts.items()}
        attached = {(port, pin): dht for port, gpio in self.gpio.items() for pin, dht in gpio.dht.items()}
        driven = {port: (dict(gpio.driven), set(gpio.released)) for port, gpio in self.gpio.items()}
        self.uc.emu_stop()
        self._power_on()
        for name, data in inboxes.items():
            self.usarts[name].inbox += data
        for (port, pin), dht in attached.items():
            dht.low_since, dht.edges = None, []
            self.gpio[port].dht[pin] = dht
        for port, (levels, released) in driven.items():
            self.gpio[port].driven, self.gpio[port].released = levels, released
        self.halted = None
        self.emit(f"reset @{self.now}")

    # ------------------------------------------------------------------ the bus

    def _block(self, address: int) -> tuple[Block, int]:
        base = address & ~(chip.CORE_BLOCK_SIZE - 1)
        if base not in chip.CORE_BLOCKS:
            base = address & ~(chip.BLOCK_SIZE - 1)
        block = self.blocks.get(base) or self.unmodelled.get(base)
        if block is None:
            name = next((n for n, b in chip.BLOCKS.items() if b == base), f"0x{base:08x}")
            block = self.unmodelled[base] = Block(name)
        return block, address - base

    def _report(self, block: Block, address: int, what: str) -> None:
        if block.name not in self.reported:
            self.reported.add(block.name)
            self.emit(f"unmodelled {block.name} 0x{address:08x} {what} @{self.now}")

    def _bus_read(self, _uc: Uc, offset: int, size: int, base: int) -> int:
        return self.read(base + offset, size)

    def _bus_write(self, _uc: Uc, offset: int, size: int, value: int, base: int) -> None:
        self.write(base + offset, size, value)

    def read(self, address: int, size: int) -> int:
        block, offset = self._block(address)
        if block in self.unmodelled.values():
            self._report(block, address, "read")
        word = block.read(offset & ~3, self.now)
        shift = 8 * (offset & 3)
        return (word >> shift) & ((1 << (8 * size)) - 1)

    def write(self, address: int, size: int, value: int) -> None:
        block, offset = self._block(address)
        if block in self.unmodelled.values():
            self._report(block, address, f"write 0x{value:x}")
        if size < 4:
            shift = 8 * (offset & 3)
            mask = ((1 << (8 * size)) - 1) << shift
            value = (block.peek(offset & ~3) & ~mask) | ((value << shift) & mask)
        block.write(offset & ~3, value & 0xFFFF_FFFF, self.now)
        if block.name in ("RCC", "EXTEN"):
            self._check_clock()

    def _check_clock(self) -> None:
        """Report the CPU clock the firmware selects; time here is counted at `freq` regardless."""
        hclk = self.rcc.hclk(self.exten.peek(chip.EXTEN_CTR))
        if hclk != self.clock:
            self.clock = hclk
            self.emit(f"clock {hclk} @{self.now}")

    # ------------------------------------------------------------------ CPU

    def _trap(self, uc: Uc, intno: int, _data: object) -> None:
        """A trap QEMU raised: a WCH CSR instruction is emulated; anything else halts the CPU."""
        pc = uc.reg_read(rv.UC_RISCV_REG_PC)
        if intno == ILLEGAL_INSTRUCTION and self._wch_csr(uc, pc - 4):
            return  # Unicorn 2.1 reports the trap with the PC already past the instruction
        if intno == ILLEGAL_INSTRUCTION and self._wch_csr(uc, pc):
            uc.reg_write(rv.UC_RISCV_REG_PC, pc + 4)
            return
        self.halted = f"crashed (trap {intno} near 0x{pc:08x})"
        uc.emu_stop()

    def _wch_csr(self, uc: Uc, pc: int) -> bool:
        """Emulate csrrw/csrrs/csrrc(i) on INTSYSCR or CORECFGR at `pc`; False if it is not one."""
        word = int.from_bytes(uc.mem_read(pc, 4), "little")
        csr, rs1, funct3, rd = word >> 20, (word >> 15) & 31, (word >> 12) & 7, (word >> 7) & 31
        if word & 0x7F != 0x73 or csr not in self.csrs or funct3 in (0, 4):
            return False
        old = self.csrs[csr]
        operand = rs1 if funct3 >= 5 else (uc.reg_read(rv.UC_RISCV_REG_X0 + rs1) if rs1 else 0)
        kind = funct3 & 3
        self.csrs[csr] = operand if kind == 1 else old | operand if kind == 2 else old & ~operand
        if rd:
            uc.reg_write(rv.UC_RISCV_REG_X0 + rd, old)
        return True

    def _pending_irq(self) -> int | None:
        sources = {chip.IRQ_SYSTICK: self.systick.irq()}
        sources.update({chip.IRQ_USART[name]: usart.irq() for name, usart in self.usarts.items()})
        ready = [irq for irq in self.pfic.enabled
                 if irq in self.pfic.pending or sources.get(irq, False)]
        return min(ready, key=lambda irq: (self.pfic.priority[irq], irq)) if ready else None

    def _interrupt(self) -> None:
        irq = self._pending_irq()
        if irq is None:
            return
        mstatus = self.uc.reg_read(rv.UC_RISCV_REG_MSTATUS)
        if not mstatus & MSTATUS_MIE:
            return
        self.pfic.pending.discard(irq)
        self.uc.reg_write(rv.UC_RISCV_REG_MEPC, self.pc)
        self.uc.reg_write(rv.UC_RISCV_REG_MCAUSE, 0x8000_0000 | irq)
        self.uc.reg_write(rv.UC_RISCV_REG_MSTATUS, (mstatus & ~MSTATUS_MIE) | MSTATUS_MPIE | MSTATUS_MPP)
        vector = self.firmware.symbols["_vector_base"] + 4 * irq
        self.pc = int.from_bytes(self.uc.mem_read(vector, 4), "little")

    def _next_event(self) -> int:
        times = [t for t in (usart.next_event() for usart in self.usarts.values()) if t is not None]
        times += [t for gpio in self.gpio.values() for dht in gpio.dht.values()
                  if (t := dht.next_edge(self.now)) is not None]
        if self.systick.next_fire is not None:
            times.append(self.systick.next_fire)
        return min(times, default=self.now + QUANTUM)

    def _quantum(self) -> int:
        """Fine steps only while a reply's latency is being measured (after its request's last byte)."""
        timing = self.latency_uart and self.usarts[self.latency_uart].request_end_at is not None
        return LATENCY_QUANTUM if timing else QUANTUM

    def run(self, cycles: int) -> None:
        """Run the firmware for about `cycles` CPU cycles (to the end of a quantum)."""
        end = self.now + cycles
        while self.now < end:
            if self.halted:
                self.now = end
                return
            quantum = max(1, min(self._quantum(), self._next_event() - self.now, end - self.now))
            self._interrupt()
            try:
                self.uc.emu_start(self.pc, 0xFFFF_FFFF, count=quantum)
            except UcError as err:
                self.halted = f"crashed ({err} near 0x{self.uc.reg_read(rv.UC_RISCV_REG_PC):08x})"
            self.pc = self.uc.reg_read(rv.UC_RISCV_REG_PC)
            self.now += quantum
            self._advance()
            if self.halted:
                self.emit(f"halt crashed @{self.now}")
                print(f"ch32v: the CPU stopped: {self.halted}", file=sys.stderr, flush=True)
            if self.pfic.reset_requested:
                self.reset()

    def _advance(self) -> None:
        self.systick.advance(self.now)
        for usart in self.usarts.values():
            usart.advance(self.now)
            usart.schedule(self.now)
        for timer in self.timers.values():
            if timer.written_at is not None and self.now - timer.written_at >= 64:
                timer.written_at = None
                self._pwm_changed(timer)

    # ------------------------------------------------------------------ events

    def _pin_changed(self, pin: str, level: int | None) -> None:
        if level is not None and self.pwm.get(pin) is None:
            self.emit(f"pin {pin} {level} @{self.now}")

    def _pwm_changed(self, timer: Timer) -> None:
        for pin, wave in timer.waveforms().items():
            if wave == self.pwm.get(pin):
                continue
            self.pwm[pin] = wave
            if wave is not None:
                self.emit(f"pwm {pin} {wave[0]} {wave[1]} @{self.now}")
            else:
                gpio, bit = self.gpio[pin[1]], int(pin[2:])
                self.emit(f"pin {pin} {gpio.regs.get(chip.GPIO_OUTDR, 0) >> bit & 1} @{self.now}")

    def _sent(self, usart: Usart, byte: int, start: int, end: int) -> None:
        if self.trace_uart:
            self.emit(f"uart {usart.name} {byte} {start} @{end}")
        self.sent_to_host(usart.name, byte)

    # ------------------------------------------------------------------ the host side

    def pin(self, name: str) -> tuple[Gpio, int]:
        """The port and bit of a pin name such as PA12."""
        if len(name) < 3 or name[0] != "P" or name[1] not in self.gpio or not name[2:].isdigit() \
                or int(name[2:]) > 15:
            raise ValueError(f"no pin {name} (PA0-PA15, PB0-PB15, PC0-PC15, PD0-PD15)")
        return self.gpio[name[1]], int(name[2:])

    def receive(self, usart: str, data: bytes) -> None:
        """Bytes from the host on a USART's RX line, one byte time apart."""
        self.usarts[usart].inbox += data
        self.usarts[usart].schedule(self.now)

    def inbox_size(self, usart: str) -> int:
        return len(self.usarts[usart].inbox)

    def set_pin(self, name: str, level: int | None) -> None:
        """Drive an input from outside (None: let it go; it keeps an external pull-up)."""
        gpio, bit = self.pin(name)
        gpio.dht.pop(bit, None)
        if level is None:
            gpio.driven.pop(bit, None)
            gpio.released.add(bit)
        else:
            gpio.driven[bit] = level

    def get_pin(self, name: str) -> tuple[str, int]:
        gpio, bit = self.pin(name)
        driven = gpio.output(bit)
        return ("out", driven) if driven is not None else ("in", gpio.level(bit, self.now))

    def attach_dht(self, name: str, model: str, temperature: float, humidity: float) -> None:
        gpio, bit = self.pin(name)
        gpio.driven.pop(bit, None)
        gpio.dht[bit] = Dht(model, temperature, humidity, self.freq // 1_000_000)

    def detach_dht(self, name: str) -> None:
        gpio, bit = self.pin(name)
        gpio.dht.pop(bit, None)
        gpio.released.add(bit)
