// Host stub of esp8266/Arduino libraries/ESP8266WiFi/src/ESP8266WiFiGeneric.h (commit
// de166c9d, and the 3.x mode(WiFiMode_t, WiFiState*) found by content, index id 42201446).
#ifndef ESP8266WIFIGENERIC_H_
#define ESP8266WIFIGENERIC_H_

#include "IPAddress.h"
#include "ESP8266WiFiType.h"

struct WiFiState;  // include/WiFiState.h, only used through a pointer here

class ESP8266WiFiGenericClass {
    public:
        ESP8266WiFiGenericClass();

        int32_t channel(void);

        void persistent(bool persistent);

        bool mode(WiFiMode_t, WiFiState* state = nullptr);
        WiFiMode_t getMode();

        bool enableSTA(bool enable);
        bool enableAP(bool enable);

        int hostByName(const char* aHostname, IPAddress& aResult);
};

#endif /* ESP8266WIFIGENERIC_H_ */
