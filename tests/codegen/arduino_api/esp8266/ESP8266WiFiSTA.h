// Host stub of esp8266/Arduino libraries/ESP8266WiFi/src/ESP8266WiFiSTA.h (read at
// commit 7dfda36f). The LwipIntf base, static IP config, WPS and SmartConfig are left out.
#ifndef ESP8266WIFISTA_H_
#define ESP8266WIFISTA_H_

extern "C" {
#include "include/wl_definitions.h"
}
#include "IPAddress.h"
#include "ESP8266WiFiType.h"
#include "ESP8266WiFiGeneric.h"

class ESP8266WiFiSTAClass {
    public:
        wl_status_t begin(const char* ssid, const char *passphrase = NULL, int32_t channel = 0, const uint8_t* bssid = NULL, bool connect = true);
        wl_status_t begin(char* ssid, char *passphrase = NULL, int32_t channel = 0, const uint8_t* bssid = NULL, bool connect = true);
        wl_status_t begin(const String& ssid, const String& passphrase = emptyString, int32_t channel = 0, const uint8_t* bssid = NULL, bool connect = true);
        wl_status_t begin();

        bool reconnect();

        bool disconnect(bool wifioff = false);
        bool disconnect(bool wifioff, bool eraseCredentials);

        bool isConnected();

        bool setAutoConnect(bool autoConnect);
        bool getAutoConnect();

        bool setAutoReconnect(bool autoReconnect);
        bool getAutoReconnect();

        int8_t waitForConnectResult(unsigned long timeoutLength = 60000);

        IPAddress localIP();
        IPAddress subnetMask();
        IPAddress gatewayIP();

        wl_status_t status();
        String SSID() const;
        int8_t RSSI();
};

#endif /* ESP8266WIFISTA_H_ */
