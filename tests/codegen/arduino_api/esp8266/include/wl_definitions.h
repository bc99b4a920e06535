// Host stub of esp8266/Arduino libraries/ESP8266WiFi/src/include/wl_definitions.h
// (read at commit 5c676751): the connection status type.
#ifndef WL_DEFINITIONS_H_
#define WL_DEFINITIONS_H_

typedef enum
{
    WL_NO_SHIELD        = 255,
    WL_IDLE_STATUS      = 0,
    WL_NO_SSID_AVAIL    = 1,
    WL_SCAN_COMPLETED   = 2,
    WL_CONNECTED        = 3,
    WL_CONNECT_FAILED   = 4,
    WL_CONNECTION_LOST  = 5,
    WL_DISCONNECTED     = 6
} wl_status_t;

#endif /* WL_DEFINITIONS_H_ */
