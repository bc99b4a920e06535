// Host stub of cores/arduino/ch32/PinNames.h of Community-PIO-CH32V/arduino_core_ch32 9cde8bf:
// PinName is an enum (its port/pin values left out here), so an integer pin number picks the
// uint32_t overloads of HardwareSerial::setRx/setTx.
#ifndef _PINNAMES_H
#define _PINNAMES_H

typedef enum {
  NC = (int)0xFFFFFFFF
} PinName;

#endif
