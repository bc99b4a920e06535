// Host stub of esp8266/Arduino cores/esp8266/Esp.h (read at commit efe11f9d): EspClass
// with its restart/reset/heap members only.
#ifndef ESP_H
#define ESP_H

#include <Arduino.h>

class EspClass {
    public:
        void reset();
        void restart();
        uint32_t getFreeHeap();
        uint32_t getChipId();
};

extern EspClass ESP;

#endif //ESP_H
