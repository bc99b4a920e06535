// Host stub of cores/arduino/wiring_digital.h. Not verifiable in openwch/arduino_core_ch32:
// that file is not in the index. Taken from the fork lopple/arduino_core_ch32 (commit
// 0caeff84), whose CH32V00x-only fast-path macros do not apply to the CH32V203.
#ifndef _WIRING_DIGITAL_
#define _WIRING_DIGITAL_

#ifdef __cplusplus
extern "C" {
#endif

extern void pinMode(uint32_t dwPin, uint32_t dwMode) ;
extern void digitalWrite(uint32_t dwPin, uint32_t dwVal) ;
extern int digitalRead(uint32_t ulPin) ;
extern void digitalToggle(uint32_t ulPin) ;

#ifdef __cplusplus
} // close extern "C"
#endif

#endif /* _WIRING_DIGITAL_ */
