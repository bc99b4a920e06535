// Host stub of esp8266/Arduino libraries/ESP8266WiFi/src/ESP8266WiFi.h (read at commit
// 319c7899): the WiFi object and the headers it pulls in. The real class also derives
// from ESP8266WiFiScanClass and ESP8266WiFiAPClass, left out (no scan, no soft AP here).
#ifndef WiFi_h
#define WiFi_h

#include <Arduino.h>

#include <stdint.h>

extern "C" {
#include "include/wl_definitions.h"
}

#include "IPAddress.h"

#include "ESP8266WiFiType.h"
#include "ESP8266WiFiSTA.h"
#include "ESP8266WiFiGeneric.h"

#include "WiFiClient.h"
#include "WiFiServer.h"

class ESP8266WiFiClass : public ESP8266WiFiGenericClass, public ESP8266WiFiSTAClass {
    public:
        using ESP8266WiFiGenericClass::channel;
        using ESP8266WiFiSTAClass::SSID;
        using ESP8266WiFiSTAClass::RSSI;

        void printDiag(Print& dest);

        friend class WiFiClient;
        friend class WiFiServer;
};

extern ESP8266WiFiClass WiFi;

#endif
