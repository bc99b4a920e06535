/*
 * avr_board: a simulated Arduino-style AVR board built on simavr 1.6.
 *
 * Usage: avr_board --mcu atmega328p|atmega2560 --freq HZ [--realtime] [--latency] [--paused]
 *                  [--bootloader BOOT.hex] [FIRMWARE.elf]
 *   --realtime  pace the simulation to the wall clock (otherwise it runs as fast as it can)
 *   --latency   report reply latencies on UART0 (see `latency` below)
 *   --profile F also write "PC CYCLES" to F for each instruction run while a reply is pending
 *   --paused    hold the MCU at its first cycle until the `run` command, so that a host can open
 *               the serial port before the firmware prints anything
 *   --bootloader  a bootloader in Intel HEX (Optiboot, stk500v2 from Debian's arduino-core-avr)
 *               put at its address with the reset vector on it (the BOOTRST fuse); the ELF, if
 *               given, is the application already in flash. Like an Arduino's DTR auto-reset,
 *               the MCU is reset (as an external reset: MCUSR.EXTRF, which Optiboot checks)
 *               each time a host opens the serial port, so avrdude reaches the bootloader and
 *               programs the simulated flash through it. With it the board does not hold the
 *               pty's slave open itself: that is how it sees a host open it.
 *
 * UART0 is bridged to a pseudo-terminal. The bridge runs on the simulation thread (simavr is
 * not thread-safe, and simavr 1.6's uart_pty part, which feeds the UART from its own thread,
 * corrupts the UART's state when a host writes a burst of more than about 512 bytes): between
 * two batches of instructions, at most every 100 us of wall time, the main loop reads what the
 * host wrote into a 4 KiB FIFO, which enters the UART while the UART takes input (its XON/XOFF
 * IRQs), one byte time apart. When that FIFO is full the board stops reading the pty, its
 * kernel buffer fills and the host's write waits: flow control. What the firmware sends goes to
 * the pty; if the host does not read it, 16 KiB wait in the board beyond the kernel's buffer,
 * then the oldest bytes are dropped and counted on stderr, so that a host that does not read
 * never stops the simulation.
 *
 * The board talks to its host with lines of text: commands on stdin, events and replies on
 * stdout. Every line the library itself prints goes to stderr, so stdout carries only the
 * protocol below. Cycle counts are simulated CPU cycles since start; they only grow (an MCU
 * reset does not rewind them).
 *
 * stdout, first line:
 *   serial: /dev/pts/N           the pty wired to UART0
 * events:
 *   pin PB5 1 @C                 an output pin the MCU drives changed level (PORT/DDR writes);
 *                                reported again when the pin becomes an output after being an
 *                                input, a timer PWM output or a reset. Input pins are silent.
 *   pwm PB1 HIGH PERIOD @C       a timer compare output (analogWrite) drives the pin: HIGH
 *                                cycles high out of every PERIOD cycles, from the timer's
 *                                registers (fast and phase-correct modes, as in the datasheet);
 *                                reported when it starts or changes. When it stops, a `pin`
 *                                event gives the level PORT leaves on the pin.
 *   reset @C                     the MCU was reset (watchdog, `reset` command)
 *   latency N @C                 with --latency: N cycles from the end of the stop bit of the
 *                                last byte received on UART0 (a text request's '\n', a frame's
 *                                CRC byte) to the MCU writing its next byte to UDR0
 *   halt done|crashed @C         the firmware stopped the core (sleep with interrupts off,
 *                                bad opcode...); commands still work, `reset` restarts it
 * commands (one per line; each answered by `ok @C` or `error TEXT`, after its reply lines):
 *   set PD2 0|1                  drive an input pin from outside
 *   release PD2                  stop driving it; the line keeps an external pull-up (reads 1
 *                                while the MCU does not drive it), like a button with its
 *                                resistor. Pins never set float as simavr models them: they
 *                                read the internal pull-up (PORT bit), else 0
 *   get PD2                      reply `state PD2 out|in LEVEL`: the driven level of an output,
 *                                the level the firmware reads on an input
 *   adc CH MILLIVOLTS            voltage on ADC channel CH (0-7; Vcc = AVcc = AREF = 5000 mV)
 *   dht PD2 dht22|dht11 T H      attach a DHT sensor answering T degrees C, H % humidity
 *   dht PD2 none                 detach it (the line stays pulled up, nobody answers)
 *   cycles                       reply `cycles N`
 *   run                          start the MCU of a board started with --paused
 *   send HEX                     queue bytes for UART0 as if the host wrote them, at this cycle
 *   step N                       run N cycles, then pause; `stepped SENT @C` says when and how
 *                                many bytes UART0 has sent since the start (lock-step
 *                                hosts: with --paused, send + step give cycle-exact timing)
 *   reset                        reset the MCU (like the reset button)
 *   quit                         stop (also stdin EOF, SIGINT, SIGTERM); exit code 0
 *
 * The DHT model: when the MCU has held the line low for at least 0.8 ms (DHT22 needs 1 ms,
 * DHT11 18 ms; both are accepted from 0.8 ms) and releases it, the sensor waits 30 us, pulls
 * low 80 us, releases 80 us, then sends 40 bits (50 us low, then high 27 us for 0 or 70 us for
 * 1) and ends with 50 us low before releasing the line. `set`/`release` on a DHT pin detach it.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE         /* openpty, cfmakeraw */

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_io.h"
#include "sim_irq.h"
#include "sim_regbit.h"
#include "sim_time.h"
#include "avr_adc.h"
#include "avr_ioport.h"
#include "avr_timer.h"
#include "avr_uart.h"
#include "sim_hex.h"

#define MAX_PORTS 12            /* A..L on the largest megas */
#define MAX_COMPARATORS 2       /* timer outputs sharing one pin (OC0A/OC1C on mega PB7) */
#define MAX_LINE 256
#define DHT_MIN_START_USEC 800
#define DHT_FIRST_REPLY_USEC 30
#define ADC_CHANNELS 8          /* simavr 1.6 keeps values for ADC0..ADC7 only */
#define SUPPLY_MV 5000
#define RUN_BATCH 1024          /* instructions between command polls */
#define PWM_SETTLE_CYCLES 64    /* quiet time after a timer register write before reporting */
#define HOST_FIFO_SIZE 4096     /* bytes read from the pty that UART0 has not taken yet */
#define MCU_FIFO_SIZE 16384     /* bytes UART0 sent that the pty has not taken yet */
#define SERIAL_POLL_NS 100000u  /* the pty is read and written at most every 100 us */
#define DROP_REPORT_NS 1000000000u  /* at most one "bytes dropped" message a second */
#define MCUSR_ADDR 0x54         /* data address of MCUSR on the m328p and the m2560 */
#define MCUSR_EXTRF 1           /* "external reset" flag: Optiboot stays only after one */

/* What the host connects to a pin from outside the MCU. */
enum line { LINE_FLOAT, LINE_LOW, LINE_HIGH, LINE_PULLUP };

typedef struct dht_t {
	int model;                  /* 11 or 22 */
	uint8_t data[5];
	int mcu_low;                /* the MCU drives the line low */
	avr_cycle_count_t low_since;
	int step;                   /* next phase of the reply, 0 when idle */
	int sensor_low;             /* the sensor pulls the line low */
} dht_t;

typedef struct port_t port_t;

typedef struct pin_t {
	port_t *port;
	uint8_t bit;
	char name[4];
	avr_irq_t *irq;
	int reported;               /* last level reported, -1 when none */
	enum line line;
	dht_t *dht;
	struct {
		avr_timer_t *timer;
		int comp;
	} oc[MAX_COMPARATORS];      /* timer compare outputs wired to this pin */
	int noc;
	avr_cycle_count_t pwm_high, pwm_period;  /* last PWM reported, period 0 when none */
} pin_t;

struct port_t {
	avr_ioport_t *io;
	pin_t pins[8];
};

typedef struct command_t {
	struct command_t *next;
	char *text;
} command_t;

/* A byte ring buffer: `len` bytes from `head`. */
typedef struct ring_t {
	uint8_t *buf;
	size_t size, head, len;
} ring_t;

static struct {
	avr_t *avr;
	FILE *out;
	avr_io_t io;                /* only for its reset callback */
	avr_uart_t *uart0;
	port_t ports[MAX_PORTS];
	int nports;
	pin_t *pwm_pins[MAX_PORTS * 8]; /* pins with a timer compare output */
	int npwm_pins;
	int latency;
	avr_cycle_count_t rx_ready;     /* when the last byte into UART0 is fully received */
	avr_cycle_count_t last_rx_ready;
	int last_rx_pending;
	int running;                    /* false while paused (--paused, until `run`) */
	avr_cycle_count_t step_until;   /* `step N`: pause again at this cycle (0: no step) */
	unsigned long long sent;        /* bytes UART0 has sent since the board started */
	FILE *profile;                  /* --profile FILE: "PC CYCLES" of each instruction run while a
	                                 * reply is pending (last byte received, nothing sent yet) */
	int quit;
	int bootloader;                 /* --bootloader: reset the MCU when a host opens the port */
} board;

static struct {
	pthread_mutex_t lock;
	command_t *head, *tail;
} queue = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL };

/* The pty bridged to UART0. Only the simulation thread touches it (simavr is not
 * thread-safe): the main loop moves bytes between the pty and the rings, simavr's UART IRQs
 * move them between the rings and the UART. */
static struct {
	int master, slave;          /* the board keeps the slave open: no hangup between hosts
	                             * (not with --bootloader: it watches for hosts opening it) */
	int host_open;              /* --bootloader: a host has the slave open */
	char name[64];
	int xon;                    /* UART0 takes input: XON seen, no XOFF since */
	int feeding;
	ring_t in;                  /* host -> MCU */
	ring_t out;                 /* MCU -> host */
	uint64_t io_ns;             /* last look at the pty */
	unsigned long long dropped, dropped_reported;
	uint64_t dropped_report_ns;
} serial;

static uint8_t serial_in_buf[HOST_FIFO_SIZE], serial_out_buf[MCU_FIFO_SIZE];

static volatile sig_atomic_t stop_signal;

/* ---------------------------------------------------------------- output */

static avr_cycle_count_t now(void)
{
	return board.avr->cycle;
}

/* Print one protocol line; a host that went away stops the board. */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(board.out, fmt, ap);
	va_end(ap);
	fputc('\n', board.out);
	if (fflush(board.out) != 0)
		board.quit = 1;
}

/* ---------------------------------------------------------------- pins */

static uint8_t reg(avr_io_addr_t addr)
{
	return board.avr->data[addr];
}

static int pin_is_output(const pin_t *pin)
{
	return (reg(pin->port->io->r_ddr) >> pin->bit) & 1;
}

static int pin_port_bit(const pin_t *pin)
{
	return (reg(pin->port->io->r_port) >> pin->bit) & 1;
}

/* Level the outside world puts on the pin, -1 when nothing does. */
static int pin_external_level(const pin_t *pin)
{
	switch (pin->line) {
	case LINE_LOW:
		return 0;
	case LINE_HIGH:
		return 1;
	case LINE_PULLUP:
		return !(pin->dht && pin->dht->sensor_low);
	default:
		return -1;
	}
}

/* Tell simavr what the outside drives on this port, and show it on the pin if it is an input. */
static void pin_apply_external(pin_t *pin)
{
	avr_ioport_external_t ext = { .name = pin->port->io->name };
	for (int b = 0; b < 8; b++) {
		int level = pin_external_level(&pin->port->pins[b]);
		if (level >= 0) {
			ext.mask |= 1u << b;
			ext.value |= (unsigned)level << b;
		}
	}
	avr_ioctl(board.avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(ext.name), &ext);
	int level = pin_external_level(pin);
	if (level >= 0 && !pin_is_output(pin))
		avr_raise_irq(pin->irq, level);
}

/* 16-bit register from its low byte address and optional high byte address. */
static uint16_t reg16(avr_io_addr_t lo, avr_io_addr_t hi)
{
	return reg(lo) | (hi ? reg(hi) << 8 : 0);
}

/*
 * The waveform a timer compare output puts on its pin, from the timer's registers as the
 * datasheet defines them: HIGH and PERIOD in CPU cycles; 0 when it is not a running PWM
 * (COM 2 non-inverting or 3 inverting, in a fast or phase-correct mode). simavr 1.6 has no
 * phase-correct mode in its timer tables, which is what Arduino uses on every timer but
 * Timer0, so the pin toggling simavr does itself cannot be relied on.
 */
static int timer_pwm(avr_timer_t *t, int c, avr_cycle_count_t *high, avr_cycle_count_t *period)
{
	avr_t *avr = board.avr;
	avr_timer_comp_t *comp = &t->comp[c];
	int com = avr_regbit_get(avr, comp->com);
	int cs = avr_regbit_get_array(avr, t->cs, ARRAY_SIZE(t->cs));
	if (com < 2 || !cs || t->cs_div[cs] == AVR_TIMER_EXTCLK_CHOOSE)
		return 0;
	int wgm = avr_regbit_get_array(avr, t->wgm, ARRAY_SIZE(t->wgm));
	uint16_t ocra = reg16(t->comp[AVR_TIMER_COMPA].r_ocr, t->comp[AVR_TIMER_COMPA].r_ocrh);
	uint16_t icr = reg16(t->r_icr, t->r_icrh);
	uint32_t top;
	int fast;
	if (!t->r_tcnth) {                      /* 8-bit timer: WGM2:0 */
		static const int8_t kind8[8] = { 0, 2, 0, 1, 0, 2, 0, 1 };  /* 1 fast, 2 phase */
		fast = kind8[wgm & 7] == 1;
		if (!kind8[wgm & 7])
			return 0;
		top = wgm & 4 ? ocra : 0xff;
	} else {                                /* 16-bit timer: WGM3:0 */
		static const int16_t top16[16] = { 0, 0xff, 0x1ff, 0x3ff, 0, 0xff, 0x1ff, 0x3ff,
			-1, -2, -1, -2, 0, 0, -1, -2 };     /* -1 ICR, -2 OCRA */
		if (!top16[wgm])
			return 0;
		fast = (wgm >= 5 && wgm <= 7) || wgm >= 14;
		top = top16[wgm] == -1 ? icr : top16[wgm] == -2 ? ocra : (uint32_t)top16[wgm];
	}
	uint32_t ocr = reg16(comp->r_ocr, comp->r_ocrh);
	if (ocr > top)
		ocr = top;
	uint32_t counts = fast ? top + 1 : 2 * top, on = fast ? ocr + 1 : 2 * ocr;
	if (!counts)
		return 0;
	avr_cycle_count_t prescaler = (avr_cycle_count_t)1 << t->cs_div[cs];
	*period = counts * prescaler;
	*high = (com == 2 ? on : counts - on) * prescaler;
	return 1;
}

/* The PWM this pin outputs, if any: the first running compare output, on an output pin. */
static int pin_pwm(const pin_t *pin, avr_cycle_count_t *high, avr_cycle_count_t *period)
{
	if (!pin_is_output(pin))
		return 0;
	for (int i = 0; i < pin->noc; i++)
		if (timer_pwm(pin->oc[i].timer, pin->oc[i].comp, high, period))
			return 1;
	return 0;
}

/* Report the pin's PWM when it starts or changes; when it stops, its PORT level. */
static void pwm_update(pin_t *pin)
{
	avr_cycle_count_t high = 0, period = 0;
	int on = pin_pwm(pin, &high, &period);
	if (high == pin->pwm_high && period == pin->pwm_period)
		return;
	int was_on = pin->pwm_period != 0;
	pin->pwm_high = high;
	pin->pwm_period = period;
	pin->reported = -1;
	if (on) {
		emit("pwm %s %llu %llu @%llu", pin->name, (unsigned long long)high,
			(unsigned long long)period, (unsigned long long)now());
	} else if (was_on) {
		/* simavr may have left the pin IRQ at a timer level: let the next PORT value through */
		avr_irq_set_flags(pin->irq, avr_irq_get_flags(pin->irq) | IRQ_FLAG_INIT);
		if (pin_is_output(pin)) {
			pin->reported = pin_port_bit(pin);
			emit("pin %s %d @%llu", pin->name, pin->reported, (unsigned long long)now());
		}
	}
}

static avr_cycle_count_t pwm_settled(avr_t *avr, avr_cycle_count_t when, void *param)
{
	(void)avr;
	(void)when;
	(void)param;
	for (int i = 0; i < board.npwm_pins; i++)
		pwm_update(board.pwm_pins[i]);
	return 0;
}

/* A timer register was written: look at the PWM outputs once the firmware is done writing
 * (analogWrite sets COM, then OCR), so that half-configured timers are not reported. */
static void timer_register_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	(void)param;
	avr_cycle_timer_cancel(board.avr, pwm_settled, NULL);
	avr_cycle_timer_register(board.avr, PWM_SETTLE_CYCLES, pwm_settled, NULL);
}

static void dht_watch(pin_t *pin);

/* Every change simavr signals on a pin: from PORT/DDR writes, timers, or the outside. */
static void pin_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	pin_t *pin = param;
	if (pin->dht)
		dht_watch(pin);
	if (pin->noc && !avr_cycle_timer_status(board.avr, pwm_settled, NULL))
		pwm_update(pin);
	if (!pin_is_output(pin)) {
		pin->reported = -1;
		return;
	}
	int level = pin_port_bit(pin);
	if (pin->pwm_period || level == pin->reported)
		return;
	pin->reported = level;
	emit("pin %s %d @%llu", pin->name, level, (unsigned long long)now());
}

/* ---------------------------------------------------------------- DHT sensor */

/* Phase `step` of the reply: line level and duration. 0 when the reply is over. */
static int dht_phase(const dht_t *d, int step, int *low, uint32_t *usec)
{
	if (step == 1 || step == 2) {           /* response: 80 us low, 80 us high */
		*low = step == 1;
		*usec = 80;
		return 1;
	}
	if (step >= 3 && step < 3 + 80) {       /* 40 bits, each a low and a high phase */
		int k = (step - 3) / 2;
		*low = (step - 3) % 2 == 0;
		*usec = *low ? 50 : ((d->data[k / 8] >> (7 - k % 8)) & 1) ? 70 : 27;
		return 1;
	}
	if (step == 3 + 80) {                   /* end of frame: 50 us low */
		*low = 1;
		*usec = 50;
		return 1;
	}
	return 0;
}

static avr_cycle_count_t dht_step(avr_t *avr, avr_cycle_count_t when, void *param)
{
	pin_t *pin = param;
	dht_t *d = pin->dht;
	int low = 0;
	uint32_t usec = 0;
	int more = dht_phase(d, d->step, &low, &usec);
	d->sensor_low = more && low;
	d->step = more ? d->step + 1 : 0;
	pin_apply_external(pin);
	return more ? when + avr_usec_to_cycles(avr, usec) : 0;
}

/* Stop any reply in progress and let go of the line. */
static void dht_idle(pin_t *pin)
{
	avr_cycle_timer_cancel(board.avr, dht_step, pin);
	pin->dht->step = 0;
	pin->dht->sensor_low = 0;
	pin_apply_external(pin);
}

/* Follow the MCU on the line: a long enough low pulse then a release starts a reply. */
static void dht_watch(pin_t *pin)
{
	dht_t *d = pin->dht;
	int mcu_low = pin_is_output(pin) && !pin_port_bit(pin);
	if (mcu_low == d->mcu_low)
		return;
	d->mcu_low = mcu_low;
	if (mcu_low) {
		if (d->step)                    /* the MCU starts over in the middle of a reply */
			dht_idle(pin);
		d->low_since = now();
	} else if (now() - d->low_since >= avr_usec_to_cycles(board.avr, DHT_MIN_START_USEC)) {
		d->step = 1;
		avr_cycle_timer_register_usec(board.avr, DHT_FIRST_REPLY_USEC, dht_step, pin);
	}
}

/* Tenths, rounded half away from zero. */
static long tenths(double v)
{
	return (long)(v * 10 + (v < 0 ? -0.5 : 0.5));
}

static const char *dht_encode(dht_t *d, double temp, double hum)
{
	long t = tenths(temp), h = tenths(hum);
	if (h < 0 || h > 1000)
		return "humidity must be 0..100";
	if (d->model == 22) {
		if (t < -400 || t > 800)
			return "DHT22 temperature must be -40..80";
		long mag = t < 0 ? -t : t;
		d->data[0] = h >> 8;
		d->data[1] = h & 0xff;
		d->data[2] = (mag >> 8) | (t < 0 ? 0x80 : 0);
		d->data[3] = mag & 0xff;
	} else {
		if (t < 0 || t > 500)
			return "DHT11 temperature must be 0..50";
		d->data[0] = h / 10;
		d->data[1] = h % 10;
		d->data[2] = t / 10;
		d->data[3] = t % 10;
	}
	d->data[4] = d->data[0] + d->data[1] + d->data[2] + d->data[3];
	return NULL;
}

static void dht_detach(pin_t *pin)
{
	if (!pin->dht)
		return;
	dht_idle(pin);
	free(pin->dht);
	pin->dht = NULL;
}

/* ---------------------------------------------------------------- UART latency */

static void uart_rx_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	/* simavr's UART hands a byte to the firmware one byte time after it arrives, and
	 * bytes arriving together follow each other one byte time apart */
	avr_cycle_count_t t = now();
	board.rx_ready = (board.rx_ready > t ? board.rx_ready : t) + board.uart0->cycles_per_byte;
	(void)value;
	board.last_rx_ready = board.rx_ready;
	board.last_rx_pending = 1;
}

static void uart_tx_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	(void)param;
	avr_cycle_count_t t = now();
	if (!board.last_rx_pending || t < board.last_rx_ready)
		return;
	board.last_rx_pending = 0;
	emit("latency %llu @%llu", (unsigned long long)(t - board.last_rx_ready),
		(unsigned long long)t);
}

/* ---------------------------------------------------------------- serial port */

static uint64_t wall_ns(void);

/* Free room after the last byte, in one piece. */
static size_t ring_room_chunk(const ring_t *r, size_t *tail)
{
	*tail = (r->head + r->len) % r->size;
	size_t room = r->size - r->len, to_end = r->size - *tail;
	return room < to_end ? room : to_end;
}

/* Bytes from the head, in one piece. */
static size_t ring_data_chunk(const ring_t *r)
{
	size_t to_end = r->size - r->head;
	return r->len < to_end ? r->len : to_end;
}

static void ring_consume(ring_t *r, size_t n)
{
	r->head = (r->head + n) % r->size;
	r->len -= n;
}

/* Give UART0 the host's bytes while it takes them. simavr's UART raises XON while its input
 * FIFO has room (when it runs empty, when the firmware polls it empty, when the receiver is
 * enabled) and XOFF when the FIFO is full; bytes pushed after XOFF or while the receiver is
 * off would be lost. Runs on the simulation thread only, like every IRQ. */
static void serial_feed(void)
{
	avr_uart_t *u = board.uart0;
	if (!u || serial.feeding)
		return;
	serial.feeding = 1;
	while (serial.xon && serial.in.len && avr_regbit_get(board.avr, u->rxen)) {
		uint8_t byte = serial.in.buf[serial.in.head];
		ring_consume(&serial.in, 1);
		avr_raise_irq(u->io.irq + UART_IRQ_INPUT, byte);
	}
	serial.feeding = 0;
}

static void serial_xon_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	(void)param;
	serial.xon = 1;
	serial_feed();
}

static void serial_xoff_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	if (value)
		serial.xon = 0;
}

/* A byte the firmware sent: queue it for the pty. A host that does not read loses the
 * oldest bytes rather than stopping the simulation. */
static void serial_out_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	ring_t *r = &serial.out;
	board.sent++;
	if (r->len == r->size) {
		ring_consume(r, 1);
		serial.dropped++;
	}
	r->buf[(r->head + r->len++) % r->size] = value & 0xff;
}

static void serial_report_drops(int now_anyway)
{
	if (serial.dropped == serial.dropped_reported)
		return;
	uint64_t t = wall_ns();
	if (!now_anyway && t - serial.dropped_report_ns < DROP_REPORT_NS)
		return;
	fprintf(stderr, "avr_board: the host does not read the serial port: %llu byte(s) the MCU "
		"sent dropped so far\n", serial.dropped);
	serial.dropped_reported = serial.dropped;
	serial.dropped_report_ns = t;
}

/* The MCU reset that an Arduino's DTR line gives when a host opens its port: an external reset
 * (EXTRF set, as Optiboot checks), with what was queued for or from the old host dropped. */
static void external_reset(void)
{
	serial.in.len = serial.out.len = 0;
	avr_reset(board.avr);
	board.avr->data[MCUSR_ADDR] |= 1 << MCUSR_EXTRF;
}

/* --bootloader: a read of the master fails with EIO while no host has the slave open; the first
 * read that does not is a host opening the port. Returns 1 after such a reset. */
static int host_opened(int closed)
{
	if (closed) {
		serial.host_open = 0;
		return 0;
	}
	if (serial.host_open)
		return 0;
	serial.host_open = 1;
	external_reset();
	return 1;
}

/* Move bytes between the pty and the rings, without blocking, then feed UART0. When the host
 * ring is full the board stops reading: the pty's buffer fills and the host's writes wait.
 * Unless `now_anyway`, at most once per SERIAL_POLL_NS: a system call after every batch of
 * instructions would cost the simulation several percent of its speed. */
static void serial_io(int now_anyway)
{
	ring_t *out = &serial.out, *in = &serial.in;
	uint64_t t = wall_ns();
	if (!now_anyway && t - serial.io_ns < SERIAL_POLL_NS)
		return;
	serial.io_ns = t;
	if (board.bootloader && !serial.host_open)
		out->len = 0;           /* no host: the bytes go nowhere, as on a real wire */
	while (out->len) {
		size_t chunk = ring_data_chunk(out);
		ssize_t n = write(serial.master, out->buf + out->head, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;                  /* EAGAIN: the host has not read enough yet */
		ring_consume(out, (size_t)n);
		if ((size_t)n < chunk)
			break;
	}
	while (in->len < in->size) {
		size_t tail, chunk = ring_room_chunk(in, &tail);
		ssize_t n = read(serial.master, in->buf + tail, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (board.bootloader && host_opened(n < 0 && errno == EIO))
			continue;
		if (n <= 0)
			break;                  /* EAGAIN: nothing more from the host */
		in->len += (size_t)n;
		if ((size_t)n < chunk)
			break;
	}
	serial_feed();
	serial_report_drops(0);
}

static int setup_serial(void)
{
	serial.in = (ring_t){ serial_in_buf, sizeof(serial_in_buf), 0, 0 };
	serial.out = (ring_t){ serial_out_buf, sizeof(serial_out_buf), 0, 0 };
	struct termios tio;
	if (openpty(&serial.master, &serial.slave, NULL, NULL, NULL) < 0 ||
			ttyname_r(serial.slave, serial.name, sizeof(serial.name)) != 0 ||
			tcgetattr(serial.master, &tio) < 0) {
		perror("avr_board: pty");
		return -1;
	}
	cfmakeraw(&tio);
	int fl = fcntl(serial.master, F_GETFL);
	if (tcsetattr(serial.master, TCSANOW, &tio) < 0 || fl < 0 ||
			fcntl(serial.master, F_SETFL, fl | O_NONBLOCK) < 0) {
		perror("avr_board: pty");
		return -1;
	}
	if (board.bootloader) {     /* the board watches for a host opening the slave */
		close(serial.slave);
		serial.slave = -1;
	}
	return 0;
}

/* Put a bootloader in flash with the reset vector on it; 0, or -1 with a message. */
static int load_bootloader(const char *hex)
{
	ihex_chunk_p chunks = NULL;
	int n = read_ihex_chunks(hex, &chunks);
	if (n <= 0) {
		fprintf(stderr, "avr_board: no bootloader in %s\n", hex);
		return -1;
	}
	uint32_t flash_size = board.avr->flashend + 1;
	for (int i = 0; i < n; i++) {
		/* Debian's optiboot_atmega328.hex has 4 bytes past the flash (0x8010): not loadable */
		uint32_t at = chunks[i].baseaddr, size = chunks[i].size;
		if (at < flash_size)
			memcpy(board.avr->flash + at, chunks[i].data, at + size > flash_size ? flash_size - at : size);
	}
	board.avr->reset_pc = chunks[0].baseaddr;
	board.avr->codeend = board.avr->flashend;
	free_ihex_chunks(chunks);
	board.avr->pc = board.avr->reset_pc;    /* power on into the bootloader, as after a DTR reset */
	board.avr->data[MCUSR_ADDR] |= 1 << MCUSR_EXTRF;
	return 0;
}

/* ---------------------------------------------------------------- reset */

static void board_reset(avr_io_t *io)
{
	(void)io;
	board.rx_ready = 0;
	board.last_rx_pending = 0;
	serial.xon = 0;                 /* the receiver is off until the firmware enables it */
	for (int p = 0; p < board.nports; p++) {
		for (int b = 0; b < 8; b++) {
			pin_t *pin = &board.ports[p].pins[b];
			pin->reported = -1;
			pin->pwm_high = pin->pwm_period = 0;
			if (pin->dht) {
				dht_idle(pin);
				pin->dht->mcu_low = 0;
			}
			/* registers were cleared behind the IRQs' back: let the next value through */
			avr_irq_set_flags(pin->irq, avr_irq_get_flags(pin->irq) | IRQ_FLAG_INIT);
			pin_apply_external(pin);
		}
	}
	emit("reset @%llu", (unsigned long long)now());
}

/* ---------------------------------------------------------------- setup */

static port_t *find_port_by_addr(avr_io_addr_t r_port)
{
	for (int p = 0; p < board.nports; p++)
		if (board.ports[p].io->r_port == r_port)
			return &board.ports[p];
	return NULL;
}

static pin_t *find_pin(const char *name)
{
	if (strlen(name) != 3 || toupper((unsigned char)name[0]) != 'P' ||
			name[2] < '0' || name[2] > '7')
		return NULL;
	char letter = toupper((unsigned char)name[1]);
	for (int p = 0; p < board.nports; p++)
		if (board.ports[p].io->name == letter)
			return &board.ports[p].pins[name[2] - '0'];
	return NULL;
}

/* A DDR write turning a pin into an output does not always change the pin's own IRQ value (a
 * pin pulled up by its PORT bit reads 1 before and after), so re-check the port's pins. */
static void ddr_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	port_t *port = param;
	for (int b = 0; b < 8; b++)
		pin_hook(NULL, 0, &port->pins[b]);
}

static void setup_ports(void)
{
	for (avr_io_t *io = board.avr->io_port; io; io = io->next) {
		if (strcmp(io->kind, "port") || board.nports == MAX_PORTS)
			continue;
		port_t *port = &board.ports[board.nports++];
		port->io = (avr_ioport_t *)io;
		for (int b = 0; b < 8; b++) {
			pin_t *pin = &port->pins[b];
			pin->port = port;
			pin->bit = b;
			snprintf(pin->name, sizeof(pin->name), "P%c%d", port->io->name, b);
			pin->irq = avr_io_getirq(board.avr, AVR_IOCTL_IOPORT_GETIRQ(port->io->name), b);
			pin->reported = -1;
			avr_irq_register_notify(pin->irq, pin_hook, pin);
		}
		avr_irq_register_notify(avr_iomem_getirq(board.avr, port->io->r_ddr, NULL, AVR_IOMEM_IRQ_ALL),
			ddr_hook, port);
	}
}

/* Watch the registers of every timer with compare outputs wired to pins. */
static void setup_timers(void)
{
	for (avr_io_t *io = board.avr->io_port; io; io = io->next) {
		if (strcmp(io->kind, "timer"))
			continue;
		avr_timer_t *timer = (avr_timer_t *)io;
		int wired = 0;
		for (int c = 0; c < AVR_TIMER_COMP_COUNT; c++) {
			avr_timer_comp_t *comp = &timer->comp[c];
			port_t *port = comp->com_pin.reg ? find_port_by_addr(comp->com_pin.reg) : NULL;
			if (!port)
				continue;
			pin_t *pin = &port->pins[comp->com_pin.bit];
			if (!pin->noc)
				board.pwm_pins[board.npwm_pins++] = pin;
			if (pin->noc < MAX_COMPARATORS) {
				pin->oc[pin->noc].timer = timer;
				pin->oc[pin->noc++].comp = c;
			}
			wired = 1;
		}
		if (!wired)
			continue;
		avr_io_addr_t regs[] = { timer->wgm[0].reg, timer->wgm[2].reg, timer->cs[0].reg,
			timer->comp[0].com.reg, timer->comp[1].com.reg, timer->comp[2].com.reg,
			timer->comp[0].r_ocr, timer->comp[1].r_ocr, timer->comp[2].r_ocr, timer->r_icr };
		for (size_t r = 0; r < ARRAY_SIZE(regs); r++)
			if (regs[r])
				avr_irq_register_notify(avr_iomem_getirq(board.avr, regs[r], NULL,
					AVR_IOMEM_IRQ_ALL), timer_register_hook, NULL);
	}
}

/* ---------------------------------------------------------------- UART transmitter */

/* An ATmega's UDR is a buffer in front of the transmit shift register (datasheet, USART "Sending
 * Frames"): a byte written while the shift register is empty moves on at once and UDRE is set
 * again, so the next byte can be written while the first is on the wire. simavr 1.6 counts the
 * bytes in its transmitter (tx_cnt) and times them right, but keeps UDRE clear until that count
 * is back to 0: every second byte waited a whole byte time, through the transmit ring and its
 * interrupt on firmware that has one. The board keeps simavr's count and timing and sets UDRE as
 * the chip does, clear only while 2 bytes are in the transmitter: after a write to UDR, after
 * each tick of simavr's transmit timer, and after a write to UCSRB (enabling UDRIE made simavr
 * raise UDRE when its own timer was not the one running). */
typedef struct {
	avr_io_write_t c;
	void *param;
} io_writer_t;

static struct {
	io_writer_t udr, ucsrb;   /* simavr's handlers of those registers */
	avr_cycle_timer_t pump;   /* simavr's transmit timer, known from its first start */
} tx;

static void tx_udre(avr_t *avr, avr_uart_t *u)
{
	if (!u->udrc.vector || !avr_regbit_get(avr, u->txen))
		return;
	if (u->tx_cnt < 2) {
		if (!avr_regbit_get(avr, u->udrc.raised))
			avr_raise_interrupt(avr, &u->udrc);
	} else if (avr_regbit_get(avr, u->udrc.raised)) {
		avr_clear_interrupt(avr, &u->udrc);
		avr_regbit_clear(avr, u->udrc.raised);
	}
}

static avr_cycle_count_t tx_pump(avr_t *avr, avr_cycle_count_t when, void *param)
{
	avr_cycle_count_t next = tx.pump(avr, when, param);
	tx_udre(avr, param);
	return next;
}

/* simavr's timer with `param`, other than the ones in `known`; NULL when none. */
static avr_cycle_timer_t tx_timer_other_than(avr_t *avr, void *param, const avr_cycle_timer_t *known, int count)
{
	for (avr_cycle_timer_slot_p s = avr->cycle_timers.timer; s; s = s->next) {
		int seen = s->param != param || s->timer == tx_pump;
		for (int i = 0; i < count && !seen; i++)
			seen = s->timer == known[i];
		if (!seen)
			return s->timer;
	}
	return NULL;
}

static void tx_udr_write(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
	(void)param;
	avr_uart_t *u = board.uart0;
	avr_cycle_timer_t before[MAX_CYCLE_TIMERS];
	int count = 0;
	if (!tx.pump)  /* its timers before the write: the new one after it is the transmit timer */
		for (avr_cycle_timer_slot_p s = avr->cycle_timers.timer; s; s = s->next)
			if (s->param == u && count < MAX_CYCLE_TIMERS)
				before[count++] = s->timer;
	tx.udr.c(avr, addr, v, tx.udr.param);
	if (!tx.pump)
		tx.pump = tx_timer_other_than(avr, u, before, count);
	/* run simavr's timer through tx_pump, and only once */
	for (avr_cycle_timer_slot_p s = avr->cycle_timers.timer; tx.pump && s; s = s->next) {
		if (s->timer != tx.pump || s->param != u)
			continue;
		avr_cycle_count_t in = s->when > avr->cycle ? s->when - avr->cycle : 0;
		avr_cycle_timer_cancel(avr, tx.pump, u);
		if (!avr_cycle_timer_status(avr, tx_pump, u))
			avr_cycle_timer_register(avr, in, tx_pump, u);
		break;
	}
	tx_udre(avr, u);
}

static void tx_ucsrb_write(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
	(void)param;
	tx.ucsrb.c(avr, addr, v, tx.ucsrb.param);
	tx_udre(avr, board.uart0);
}

/* Puts `hook` in front of the handler of writes to data address `addr`, keeping it in `saved`. */
static void wrap_io_write(avr_io_addr_t addr, avr_io_write_t hook, io_writer_t *saved)
{
	avr_io_addr_t a = AVR_DATA_TO_IO(addr);
	saved->c = board.avr->io[a].w.c;
	saved->param = board.avr->io[a].w.param;
	board.avr->io[a].w.c = hook;
}

static void setup_uart(void)
{
	for (avr_io_t *io = board.avr->io_port; io; io = io->next)
		if (!strcmp(io->kind, "uart") && ((avr_uart_t *)io)->name == '0')
			board.uart0 = (avr_uart_t *)io;
	if (!board.uart0)
		return;
	/* no console copy of the output (the bytes are binary), and no usleep() while the
	 * firmware polls the UART: it would slow polling firmware in real time */
	uint32_t flags = 0;
	avr_ioctl(board.avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
	flags &= ~(AVR_UART_FLAG_POLL_SLEEP | AVR_UART_FLAG_STDIO);
	avr_ioctl(board.avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	wrap_io_write(board.uart0->r_udr, tx_udr_write, &tx.udr);
	wrap_io_write(board.uart0->udrc.enable.reg, tx_ucsrb_write, &tx.ucsrb);
	avr_irq_t *irq = board.uart0->io.irq;
	avr_irq_register_notify(irq + UART_IRQ_OUTPUT, serial_out_hook, NULL);
	avr_irq_register_notify(irq + UART_IRQ_OUT_XON, serial_xon_hook, NULL);
	avr_irq_register_notify(irq + UART_IRQ_OUT_XOFF, serial_xoff_hook, NULL);
	if (board.latency) {
		avr_irq_register_notify(board.uart0->io.irq + UART_IRQ_INPUT, uart_rx_hook, NULL);
		avr_irq_register_notify(board.uart0->io.irq + UART_IRQ_OUTPUT, uart_tx_hook, NULL);
	}
}

/* simavr sleeps in wall time while the MCU sleeps; pacing is ours (see --realtime). */
static void no_sleep(avr_t *avr, avr_cycle_count_t how_long)
{
	(void)avr;
	(void)how_long;
}

/* ---------------------------------------------------------------- commands */

static void *stdin_reader(void *arg)
{
	(void)arg;
	char *line = NULL;
	size_t cap = 0;
	for (;;) {
		ssize_t n = getline(&line, &cap, stdin);
		command_t *cmd = malloc(sizeof(*cmd));
		char *text = strdup(n < 0 ? "quit" : line);
		if (!cmd || !text) {
			free(cmd);
			free(text);
			break;
		}
		cmd->next = NULL;
		cmd->text = text;
		pthread_mutex_lock(&queue.lock);
		if (queue.tail)
			queue.tail->next = cmd;
		else
			queue.head = cmd;
		queue.tail = cmd;
		pthread_mutex_unlock(&queue.lock);
		if (n < 0)
			break;
	}
	free(line);
	return NULL;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	if (!s)
		return 0;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	if (!s)
		return 0;
	errno = 0;
	*out = strtod(s, &end);
	return !errno && !*end && end != s;
}

/* Run one command; returns an error text or NULL. */
static const char *run_command(char **arg, int argc)
{
	const char *cmd = arg[0];
	pin_t *pin = argc > 1 ? find_pin(arg[1]) : NULL;
	long n;

	if (!strcmp(cmd, "set") || !strcmp(cmd, "release")) {
		int set = !strcmp(cmd, "set");
		if (argc != (set ? 3 : 2))
			return set ? "usage: set PIN 0|1" : "usage: release PIN";
		if (!pin)
			return "unknown pin";
		if (set && !parse_long(arg[2], 0, 1, &n))
			return "level must be 0 or 1";
		dht_detach(pin);
		pin->line = !set ? LINE_PULLUP : n ? LINE_HIGH : LINE_LOW;
		pin_apply_external(pin);
	} else if (!strcmp(cmd, "get")) {
		if (argc != 2)
			return "usage: get PIN";
		if (!pin)
			return "unknown pin";
		int out = pin_is_output(pin);
		int level = out ? pin_port_bit(pin) : (reg(pin->port->io->r_pin) >> pin->bit) & 1;
		emit("state %s %s %d", pin->name, out ? "out" : "in", level);
	} else if (!strcmp(cmd, "adc")) {
		long mv;
		if (argc != 3)
			return "usage: adc CHANNEL MILLIVOLTS";
		if (!parse_long(arg[1], 0, ADC_CHANNELS - 1, &n))
			return "channel must be 0..7";
		if (!parse_long(arg[2], 0, SUPPLY_MV, &mv))
			return "millivolts must be 0..5000";
		avr_raise_irq(avr_io_getirq(board.avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + n), mv);
	} else if (!strcmp(cmd, "dht")) {
		if (argc != 3 && argc != 5)
			return "usage: dht PIN dht22|dht11 TEMP HUMIDITY | dht PIN none";
		if (!pin)
			return "unknown pin";
		if (argc == 3) {
			if (strcmp(arg[2], "none"))
				return "usage: dht PIN none";
			dht_detach(pin);
		} else {
			dht_t d = { 0 };
			double temp, hum;
			if (!strcmp(arg[2], "dht22"))
				d.model = 22;
			else if (!strcmp(arg[2], "dht11"))
				d.model = 11;
			else
				return "model must be dht22 or dht11";
			if (!parse_double(arg[3], &temp) || !parse_double(arg[4], &hum))
				return "temperature and humidity must be numbers";
			const char *bad = dht_encode(&d, temp, hum);
			if (bad)
				return bad;
			dht_detach(pin);
			pin->dht = malloc(sizeof(*pin->dht));
			if (!pin->dht)
				return "out of memory";
			*pin->dht = d;
			pin->dht->mcu_low = pin_is_output(pin) && !pin_port_bit(pin);
			pin->dht->low_since = now();
		}
		pin->line = LINE_PULLUP;
		pin_apply_external(pin);
	} else if (!strcmp(cmd, "cycles")) {
		if (argc != 1)
			return "usage: cycles";
		emit("cycles %llu", (unsigned long long)now());
	} else if (!strcmp(cmd, "reset")) {
		if (argc != 1)
			return "usage: reset";
		avr_reset(board.avr);
	} else if (!strcmp(cmd, "run")) {
		if (argc != 1)
			return "usage: run";
		board.running = 1;
	} else if (!strcmp(cmd, "send")) {
		size_t n = argc == 2 ? strlen(arg[1]) : 1;
		if (n % 2 || n / 2 > serial.in.size - serial.in.len)
			return "usage: send HEX (an even number of hex digits, at most the free FIFO)";
		for (size_t i = 0; i < n; i += 2) {
			char pair[3] = { arg[1][i], arg[1][i + 1], 0 }, *end;
			long byte = strtol(pair, &end, 16);
			if (*end)
				return "usage: send HEX (an even number of hex digits, at most the free FIFO)";
			serial.in.buf[(serial.in.head + serial.in.len++) % serial.in.size] = (uint8_t)byte;
		}
		serial_feed();
	} else if (!strcmp(cmd, "step")) {
		long n;
		if (argc != 2 || !parse_long(arg[1], 1, LONG_MAX, &n))
			return "usage: step CYCLES";
		board.step_until = now() + (avr_cycle_count_t)n;
		board.running = 1;
	} else if (!strcmp(cmd, "quit")) {
		board.quit = 1;
	} else {
		return "unknown command";
	}
	return NULL;
}

static void process_commands(void)
{
	pthread_mutex_lock(&queue.lock);
	command_t *cmd = queue.head;
	queue.head = queue.tail = NULL;
	pthread_mutex_unlock(&queue.lock);
	while (cmd) {
		command_t *next = cmd->next;
		if (board.quit)
			cmd->text[0] = '\0';       /* nothing after quit */
		char *arg[8], *save = NULL;
		int argc = 0, too_long = strlen(cmd->text) >= MAX_LINE;
		for (char *tok = strtok_r(cmd->text, " \t\r\n", &save); tok && argc < 8;
				tok = strtok_r(NULL, " \t\r\n", &save))
			arg[argc++] = tok;
		if (argc) {
			const char *err = too_long ? "line too long" : run_command(arg, argc);
			if (err)
				emit("error %s", err);
			else
				emit("ok @%llu", (unsigned long long)now());
		}
		free(cmd->text);
		free(cmd);
		cmd = next;
	}
}

/* ---------------------------------------------------------------- main loop */

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static uint64_t cycles_to_ns(avr_cycle_count_t c)
{
	uint64_t f = board.avr->frequency;
	return c / f * 1000000000u + c % f * 1000000000u / f;
}

/* Sleep while the simulation is ahead of the wall clock. */
static void pace(uint64_t start_ns)
{
	uint64_t sim_ns = cycles_to_ns(now());
	uint64_t wall = wall_ns() - start_ns;
	if (sim_ns > wall) {
		uint64_t ahead = sim_ns - wall;
		struct timespec ts = { ahead / 1000000000u, ahead % 1000000000u };
		nanosleep(&ts, NULL);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: avr_board --mcu atmega328p|atmega2560 --freq HZ "
		"[--realtime] [--latency] [--profile FILE] [--paused] [--bootloader BOOT.hex] [FIRMWARE.elf]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mcu = NULL, *elf = NULL, *bootloader = NULL;
	long freq = 0;
	int realtime = 0, paused = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mcu") && i + 1 < argc)
			mcu = argv[++i];
		else if (!strcmp(argv[i], "--freq") && i + 1 < argc) {
			if (!parse_long(argv[++i], 1000, 100000000, &freq))
				usage();
		} else if (!strcmp(argv[i], "--realtime"))
			realtime = 1;
		else if (!strcmp(argv[i], "--paused"))
			paused = 1;
		else if (!strcmp(argv[i], "--latency"))
			board.latency = 1;
		else if (!strcmp(argv[i], "--profile") && i + 1 < argc && (board.profile = fopen(argv[++i], "w")))
			board.latency = 1;
		else if (!strcmp(argv[i], "--bootloader") && i + 1 < argc)
			bootloader = argv[++i];
		else if (argv[i][0] == '-' || elf)
			usage();
		else
			elf = argv[i];
	}
	if (!mcu || !freq || (!elf && !bootloader))
		usage();
	board.bootloader = bootloader != NULL;

	/* stdout is the protocol; whatever simavr prints goes to stderr */
	int proto = dup(STDOUT_FILENO);
	board.out = proto >= 0 ? fdopen(proto, "w") : NULL;
	if (!board.out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		perror("avr_board: stdout");
		return 1;
	}
	setvbuf(board.out, NULL, _IOLBF, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);

	elf_firmware_t fw;
	memset(&fw, 0, sizeof(fw));
	if (elf && (elf_read_firmware(elf, &fw) != 0 || !fw.flashsize)) {
		fprintf(stderr, "avr_board: no AVR program in %s\n", elf);
		return 1;
	}
	board.avr = avr_make_mcu_by_name(mcu);
	if (!board.avr) {
		fprintf(stderr, "avr_board: simavr does not know the MCU %s\n", mcu);
		return 1;
	}
	avr_init(board.avr);
	if (elf)
		avr_load_firmware(board.avr, &fw);
	board.avr->frequency = freq;
	board.avr->vcc = board.avr->avcc = board.avr->aref = SUPPLY_MV;
	board.avr->sleep = no_sleep;

	if (setup_serial() < 0)
		return 1;
	setup_ports();
	setup_timers();
	setup_uart();
	board.io.kind = "board";
	board.io.reset = board_reset;
	avr_register_io(board.avr, &board.io);
	if (bootloader && load_bootloader(bootloader) < 0)
		return 1;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pthread_t reader;
	if (pthread_create(&reader, NULL, stdin_reader, NULL) != 0) {
		fprintf(stderr, "avr_board: cannot start the command reader\n");
		return 1;
	}
	pthread_detach(reader);

	board.running = !paused;
	emit("serial: %s", serial.name);

	uint64_t start_ns = wall_ns();
	int halted = 0;
	while (!board.quit && !stop_signal) {
		int state = board.avr->state;
		for (int i = 0; i < RUN_BATCH && board.running && state != cpu_Done &&
				state != cpu_Crashed && (!board.step_until || now() < board.step_until); i++) {
			avr_flashaddr_t pc = board.avr->pc;
			avr_cycle_count_t before = now();
			state = avr_run(board.avr);
			if (board.profile && board.last_rx_pending && before >= board.last_rx_ready)
				fprintf(board.profile, "%x %llu\n", pc, (unsigned long long)(now() - before));
		}
		if (board.step_until && now() >= board.step_until) {
			board.running = 0;
			board.step_until = 0;
			emit("stepped %llu @%llu", board.sent, (unsigned long long)now());
		}
		if (state == cpu_Done || state == cpu_Crashed) {
			if (!halted)
				emit("halt %s @%llu", state == cpu_Done ? "done" : "crashed",
					(unsigned long long)now());
			halted = 1;
		} else {
			halted = 0;
		}
		int idle = !board.running || halted;
		if (idle) {
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
			start_ns = wall_ns() - cycles_to_ns(now());
		} else if (realtime) {
			pace(start_ns);
		}
		serial_io(idle);
		process_commands();
	}
	serial_io(1);                   /* what the firmware sent last, if the host takes it */
	serial_report_drops(1);
	return 0;                       /* exiting closes the pty */
}
