// Host stub of libraries/ESP8266WiFi/src/WiFiServer.h as in core 3.1: accept() added,
// available() deprecated, no Server base class. The esp8266/Arduino path is stored only
// at an older commit (e8984bdd, no accept()); this follows the 3.1 text found by content
// (index id 135235397, repository not named by the index).
#ifndef wifiserver_h
#define wifiserver_h

extern "C" {
  #include "include/wl_definitions.h"
}

#include "IPAddress.h"

class WiFiClient;

class WiFiServer {
public:
  WiFiServer(const IPAddress& addr, uint16_t port);
  WiFiServer(uint16_t port);
  virtual ~WiFiServer() {}
  WiFiClient accept();
  WiFiClient available(uint8_t* status = NULL) __attribute__((deprecated("Renamed to accept().")));
  bool hasClient();
  size_t hasClientData();
  bool hasMaxPendingClients();
  void begin();
  void begin(uint16_t port);
  void begin(uint16_t port, uint8_t backlog);
  void setNoDelay(bool nodelay);
  bool getNoDelay();
  uint8_t status();
  uint16_t port() const;
  void close();
  void stop();

  using ClientType = WiFiClient;
};

#endif
