// Host stub of openwch/arduino_core_ch32 cores/arduino/WSerial.h (read at commit c6c920dd):
// `Serial` is a macro naming Serial1, since the CH32V203C8 variant
// (variants/CH32V20x/CH32V203C8/variant_CH32V203C8.h, commit c40c5c80) sets
// SERIAL_UART_INSTANCE 1 and UART_MODULE_ENABLED.
#ifndef WIRING_SERIAL_H
#define WIRING_SERIAL_H

#include "HardwareSerial.h"

#define Serial Serial1

#endif /* WIRING_SERIAL_H */
