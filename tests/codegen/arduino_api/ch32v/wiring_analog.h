// Host stub of cores/arduino/wiring_analog.h. Not verifiable in openwch/arduino_core_ch32:
// that file is not in the index. Taken from the fork morpheby/arduino_core_ch32 (commit
// 01b20789); its fork-only analogCalibration()/analogOutputInit() are left out.
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
