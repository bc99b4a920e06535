// Host stub of cores/arduino/WSerial.h (openwch/arduino_core_ch32 c6c920dd, unchanged in
// Community-PIO-CH32V 9cde8bf): HAVE_HWSERIAL1 since USART1 exists and it is enabled;
// `Serial` is a macro naming Serial1, since the CH32V203C8 variant
// (variants/CH32V20x/CH32V203C8/variant_CH32V203C8.h, commit c40c5c80) sets
// SERIAL_UART_INSTANCE 1 and UART_MODULE_ENABLED.
#ifndef WIRING_SERIAL_H
#define WIRING_SERIAL_H

#include "HardwareSerial.h"

#define HAVE_HWSERIAL1
#define Serial Serial1

#endif /* WIRING_SERIAL_H */
