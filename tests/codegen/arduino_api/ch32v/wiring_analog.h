// Host stub of cores/arduino/wiring_analog.h of Community-PIO-CH32V/arduino_core_ch32 9cde8bf
// (checked declaration by declaration; analogOutputInit() left out). analogRead() takes an
// A-number: 0-9 or A0-A9 (0xC0-0xC9) on the CH32V203C8 variant, A8/A9 being PB0/PB1; a pin
// number such as 16 (PB0) maps to no pin and reads 0 (pins_arduino.h analogInputToDigitalPin).
// There is no analogWriteRange() on this core (that is ESP8266 API).
#ifndef _WIRING_ANALOG_
#define _WIRING_ANALOG_

#ifdef __cplusplus
extern "C" {
#endif

typedef enum _eAnalogReference {
  AR_DEFAULT,
} eAnalogReference ;

extern void analogReference(eAnalogReference ulMode) ;
extern void analogWrite(uint32_t ulPin, uint32_t ulValue) ;
extern uint32_t analogRead(uint32_t ulPin) ;
extern void analogReadResolution(int res);
extern void analogWriteResolution(int res);
extern void analogWriteFrequency(uint32_t freq);

#ifdef __cplusplus
}
#endif

#endif /* _WIRING_ANALOG_ */
