// Host stub of libraries/ESP8266WiFi/src/WiFiClient.h, core 3.x (esp8266/Arduino path at
// commit 07104a72, and the later text with clone()/abort() found by content, index id
// 545457360). The SList<WiFiClient> base and the keep-alive/peek-buffer API are left out.
#ifndef wificlient_h
#define wificlient_h
#include "Arduino.h"
#include "Print.h"
#include "Client.h"
#include "IPAddress.h"

class WiFiClient : public Client {
public:
  WiFiClient();
  virtual ~WiFiClient();
  WiFiClient(const WiFiClient&);
  WiFiClient& operator=(const WiFiClient&);

  virtual uint8_t status();
  virtual int connect(IPAddress ip, uint16_t port) override;
  virtual int connect(const char *host, uint16_t port) override;
  virtual int connect(const String& host, uint16_t port);
  virtual size_t write(uint8_t) override;
  virtual size_t write(const uint8_t *buf, size_t size) override;
  virtual size_t write_P(PGM_P buf, size_t size);

  virtual int available() override;
  virtual int read() override;
  virtual int read(uint8_t* buf, size_t size) override;
  int read(char* buf, size_t size);

  virtual int peek() override;
  virtual void flush() override;
  virtual void stop() override;
  bool flush(unsigned int maxWaitMs);
  bool stop(unsigned int maxWaitMs);
  virtual uint8_t connected() override;
  virtual operator bool() override;

  virtual IPAddress remoteIP();
  virtual uint16_t  remotePort();
  virtual IPAddress localIP();
  virtual uint16_t  localPort();

  int availableForWrite() override;

  using Print::write;

  void abort();

  bool getNoDelay() const;
  void setNoDelay(bool nodelay);
  bool getSync() const;
  void setSync(bool sync);
};

#endif
