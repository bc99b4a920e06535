"""The CH32V203 peripheral models on their own (generator/sim/ch32v/peripherals.py), register by
register as the reference manual describes them; the firmware-level tests are in test_ch32v_sim.py."""
from __future__ import annotations

from generator.sim.board import ClockEvent, UartEvent, UnmodelledEvent, parse_event
from generator.sim.ch32v import chip
from generator.sim.ch32v.peripherals import Gpio, Pfic, Rcc, SysTick, Usart

BRR_115200_APB2 = 1250  # 144 MHz / 115200


def usart() -> tuple[Usart, list[tuple[int, int, int]], list[int]]:
    sent: list[tuple[int, int, int]] = []
    stalls: list[int] = []
    port = Usart("USART1", Rcc(), lambda _u, byte, start, end: sent.append((byte, start, end)),
                 lambda: stalls.append(1))
    port.write(chip.USART_BRR, BRR_115200_APB2, 0)
    port.write(chip.USART_CTLR1, chip.C1_UE | chip.C1_RE | chip.C1_TE | chip.C1_RXNEIE, 0)
    return port, sent, stalls


def test_a_byte_arriving_before_the_last_was_read_sets_ore_and_is_lost() -> None:
    port, _, _ = usart()
    port.inbox += b"AB"
    port.schedule(0)
    byte = 10 * BRR_115200_APB2
    port.advance(byte)
    assert port.statr & chip.ST_RXNE and port.irq() and port.peek(chip.USART_DATAR) == ord("A")
    port.advance(2 * byte)
    assert port.statr & chip.ST_ORE and port.peek(chip.USART_DATAR) == ord("A")  # B is lost
    port.read(chip.USART_STATR, 2 * byte)
    assert port.read(chip.USART_DATAR, 2 * byte) == ord("A")
    assert not port.statr & (chip.ST_RXNE | chip.ST_ORE) and not port.irq()


def test_sending_two_bytes_takes_two_byte_times_and_tc_rises_at_the_end() -> None:
    port, sent, stalls = usart()
    byte = 10 * BRR_115200_APB2
    port.write(chip.USART_DATAR, 0x41, 100)
    assert port.statr & chip.ST_TXE and not port.statr & chip.ST_TC  # DATAR moved to the shifter
    port.write(chip.USART_DATAR, 0x42, 100)
    assert not port.statr & chip.ST_TXE
    port.read(chip.USART_STATR, 100)
    port.read(chip.USART_STATR, 100)
    assert stalls, "a second poll in one quantum while sending skips to the byte boundary"
    port.advance(100 + byte)
    assert sent == [(0x41, 100, 100 + byte)] and port.statr & chip.ST_TXE
    port.advance(100 + 2 * byte)
    assert sent[1] == (0x42, 100 + byte, 100 + 2 * byte) and port.statr & chip.ST_TC


def test_usart3_on_apb1_runs_at_half_the_brr_rate_when_pclk1_is_hclk_over_2() -> None:
    rcc = Rcc()
    rcc.write(chip.RCC_CFGR0, 4 << 8, 0)  # PPRE1 = HCLK / 2, as SetSysClockTo144_HSI sets it
    port = Usart("USART3", rcc, lambda *_: None, lambda: None)
    port.write(chip.USART_BRR, 625, 0)  # 72 MHz / 115200
    assert port.byte_cycles() == 10 * 1250


def test_gpio_modes_outputs_read_back_and_inputs_from_the_host() -> None:
    changes: list[tuple[str, int | None]] = []
    port = Gpio("A", lambda pin, level: changes.append((pin, level)), lambda: None)
    port.write(chip.GPIO_CFGHR, 0x4443_4444, 0)  # PA12: output push-pull 50 MHz
    port.write(chip.GPIO_BSHR, 1 << 12, 10)
    assert changes[-1] == ("PA12", 1) and port.read(chip.GPIO_INDR, 10) >> 12 & 1
    port.write(chip.GPIO_BCR, 1 << 12, 20)
    assert changes[-1] == ("PA12", 0)
    port.write(chip.GPIO_CFGLR, 0x4444_4484, 30)  # PA1: input with pull, OUTDR bit 1 = pull-up
    assert not port.read(chip.GPIO_INDR, 30) >> 1 & 1
    port.write(chip.GPIO_BSHR, 1 << 1, 40)
    assert port.read(chip.GPIO_INDR, 40) >> 1 & 1
    port.driven[1] = 0
    assert not port.read(chip.GPIO_INDR, 50) >> 1 & 1


def test_systick_counts_up_to_cmp_and_raises_its_flag_every_period() -> None:
    tick = SysTick()
    tick.write(chip.STK_CMP, 143_999, 0)
    tick.write(chip.STK_CTLR, chip.STK_STE | chip.STK_STIE | chip.STK_STCLK | chip.STK_STRE, 0)
    assert tick.read(chip.STK_CNT, 1000) == 1000
    tick.advance(143_999)
    assert tick.irq()
    tick.write(chip.STK_SR, 0, 144_100)  # the handler clears CNTIF: the count goes on
    assert not tick.irq() and tick.read(chip.STK_CNT, 144_100) == 100
    tick.advance(2 * 144_000 - 2)
    assert not tick.irq()
    tick.advance(2 * 144_000 - 1)
    assert tick.irq()


def test_pfic_enables_pends_prioritises_and_resets_with_key3() -> None:
    pfic = Pfic()
    pfic.write(chip.PFIC_IENR + 4, 1 << (53 - 32), 0)
    pfic.write(chip.PFIC_IPRIOR + 52, 0x40 << 8, 0)
    assert 53 in pfic.enabled and pfic.priority[53] == 0x40
    assert pfic.read(chip.PFIC_ISR + 4, 0) == 1 << 21
    pfic.write(chip.PFIC_IRER + 4, 1 << 21, 0)
    assert 53 not in pfic.enabled
    pfic.write(chip.PFIC_CFGR, 0xFA05_0000 | 1 << 7, 0)
    assert not pfic.reset_requested  # a wrong key does nothing
    pfic.write(chip.PFIC_CFGR, chip.PFIC_RESET_KEY | chip.PFIC_RESET_BIT, 0)
    assert pfic.reset_requested


def test_the_ch32v_event_lines_parse() -> None:
    assert parse_event("uart USART1 123 1000 @13500") == UartEvent("USART1", 123, 1000, 13500)
    assert parse_event("unmodelled EXTI 0x40010400 read @5") == UnmodelledEvent("EXTI", 0x40010400, 5)
    assert parse_event("clock 144000000 @0") == ClockEvent(144_000_000, 0)
