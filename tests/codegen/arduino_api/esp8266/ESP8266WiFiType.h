// Host stub of esp8266/Arduino libraries/ESP8266WiFi/src/ESP8266WiFiType.h (read at
// commit 48e1ccbf): the WiFi mode type; events and sleep types are left out.
#ifndef ESP8266WIFITYPE_H_
#define ESP8266WIFITYPE_H_

typedef enum WiFiMode
{
    WIFI_OFF = 0, WIFI_STA = 1, WIFI_AP = 2, WIFI_AP_STA = 3,
    WIFI_SHUTDOWN = 4, WIFI_RESUME = 8
} WiFiMode_t;

#endif /* ESP8266WIFITYPE_H_ */
