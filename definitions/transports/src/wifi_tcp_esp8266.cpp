// wifi_tcp transport (ESP8266): one TCP client at a time on TCP_PORT.
// A second client is told it is busy and closed. Nobody keeps the board by saying nothing: a
// client is dropped when it has not completed its handshake (without WIFI_KEY: a request) within
// TCP_HANDSHAKE_TIMEOUT_MS, or sends no request for TCP_IDLE_TIMEOUT_S. Status lines go to Serial.
static WiFiServer wifi_tcp_server({{ TCP_PORT }});
static WiFiClient wifi_tcp_client;
static bool wifi_tcp_was_connected = false;
static bool wifi_tcp_present = false;  // a client is connected
static bool wifi_tcp_greeted = false;  // the client completed its handshake / a request
static uint32_t wifi_tcp_since = 0;    // millis() when it connected, then of its last request
{% if WIFI_KEY %}

// WIFI_KEY is set: every connection starts with a Noise_NNpsk0 handshake (noise_nnpsk0.cpp) and
// every message after it, both ways, is sealed; each is framed by its length, 2 bytes big-endian,
// as the Noise spec recommends (docs/protocol.md, "Encrypted WiFi").
#define WIFI_TCP_PLAIN_MAX 512  // plaintext bytes one message carries at most, both ways
static const uint8_t wifi_tcp_key[FW_NOISE_KEY] = {{ WIFI_KEY }};
static FwNoise wifi_tcp_noise;
static uint8_t wifi_tcp_rx[WIFI_TCP_PLAIN_MAX + FW_NOISE_TAG];  // the message being received
static uint16_t wifi_tcp_rx_size = 0;  // its length, once its 2 length bytes are in
static uint16_t wifi_tcp_rx_have = 0;  // its bytes received so far, the length's included

// Replies and events are collected here and leave sealed: one message per loop(), or per
// WIFI_TCP_PLAIN_MAX bytes.
class WifiTcpSealed : public Print {
 public:
  using Print::write;
  uint8_t buf[2 + WIFI_TCP_PLAIN_MAX + FW_NOISE_TAG];
  uint16_t len = 0;
  size_t write(uint8_t c) override {
    buf[2 + len++] = c;
    if (len == WIFI_TCP_PLAIN_MAX) send();
    return 1;
  }
  void send() {
    if (!len) return;
    fw_noise_seal(&wifi_tcp_noise.tx, nullptr, 0, buf + 2, len);
    const uint16_t size = (uint16_t)(len + FW_NOISE_TAG);
    buf[0] = (uint8_t)(size >> 8);
    buf[1] = (uint8_t)size;
    wifi_tcp_client.write(buf, 2 + size);
    len = 0;
  }
};
static WifiTcpSealed wifi_tcp_sealed;

// 32 random bytes: SHA-256 of 64 readings of the ESP8266's random number generator (RANDOM_REG32,
// fed by RF noise while WiFi is on) taken a few microseconds apart, with the time of each.
static void wifi_tcp_random(uint8_t* out) {
  br_sha256_context sha;
  br_sha256_init(&sha);
  for (uint8_t i = 0; i < 64; i++) {
    const uint32_t sample[2] = {(uint32_t)RANDOM_REG32, (uint32_t)micros()};
    br_sha256_update(&sha, sample, sizeof sample);
    delayMicroseconds(2);
  }
  br_sha256_out(&sha, out);
}

// The received hello of `size` bytes: answers it and turns sealing on, or false (a wrong key,
// plaintext, garbage).
static bool wifi_tcp_handshake(uint16_t size) {
  const uint32_t start = micros();
  uint8_t e_secret[FW_NOISE_KEY];
  wifi_tcp_random(e_secret);
  uint8_t reply[2 + FW_NOISE_HELLO] = {0, FW_NOISE_HELLO};
  const bool ok = fw_noise_respond(&wifi_tcp_noise, wifi_tcp_key, wifi_tcp_rx, size, e_secret, reply + 2);
  memset(e_secret, 0, sizeof e_secret);
  if (!ok) return false;
  wifi_tcp_client.write(reply, sizeof reply);
  Serial.print(F("wifi: client authenticated, handshake "));
  Serial.print(micros() - start);
  Serial.println(F(" us"));
  fw_out = &wifi_tcp_sealed;
  return true;
}

// One received byte of a Noise message; a whole message is opened and its plaintext fed to the
// protocol. False: the connection must end, nothing of the message executed (a wrong key, a
// replayed, altered or oversized message, plaintext where a handshake is due).
static bool wifi_tcp_take(uint8_t b) {
  if (wifi_tcp_rx_have < 2) {
    wifi_tcp_rx_size = (uint16_t)((wifi_tcp_rx_size << 8) | b);
    return ++wifi_tcp_rx_have < 2 || (wifi_tcp_rx_size >= FW_NOISE_TAG && wifi_tcp_rx_size <= sizeof wifi_tcp_rx);
  }
  wifi_tcp_rx[wifi_tcp_rx_have++ - 2] = b;
  const uint16_t size = wifi_tcp_rx_size;
  if (wifi_tcp_rx_have - 2 < size) return true;
  wifi_tcp_rx_have = 0;
  wifi_tcp_rx_size = 0;
  if (!wifi_tcp_greeted) {
    wifi_tcp_greeted = wifi_tcp_handshake(size);
    wifi_tcp_since = millis();
    return wifi_tcp_greeted;
  }
  if (!fw_noise_open(&wifi_tcp_noise.rx, nullptr, 0, wifi_tcp_rx, size)) return false;
  for (uint16_t i = 0; i < size - FW_NOISE_TAG; i++) fw_feed((char)wifi_tcp_rx[i]);
  wifi_tcp_since = millis();
  return true;
}
{% endif %}

// Forgets the client's state: a new client starts from nothing.
static void wifi_tcp_forget() {
  wifi_tcp_greeted = false;
  wifi_tcp_since = millis();
  fw_reset_line();
  fw_frames_on = false;  // each client turns frames on for itself
{% if WIFI_KEY %}
  fw_out = nullptr;  // nothing leaves before the handshake
  memset(&wifi_tcp_noise, 0, sizeof wifi_tcp_noise);
  wifi_tcp_rx_size = 0;
  wifi_tcp_rx_have = 0;
  wifi_tcp_sealed.len = 0;
{% else %}
  fw_out = &wifi_tcp_client;
{% endif %}
}

static void wifi_tcp_drop(const __FlashStringHelper* why) {
  if (wifi_tcp_present) {
    Serial.print(F("wifi: client dropped: "));
    Serial.println(why);
  }
  wifi_tcp_client.stop();
  wifi_tcp_present = false;
  wifi_tcp_forget();
}

static void wifi_tcp_begin() {
  Serial.begin(115200);
  WiFi.persistent(false);
  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  WiFi.begin({{ WIFI_SSID }}, {{ WIFI_PASSWORD }});
  wifi_tcp_server.begin();
  wifi_tcp_server.setNoDelay(true);
}

static void wifi_tcp_poll() {
{% if WIFI_KEY %}
  wifi_tcp_sealed.send();  // events pushed since the last poll
{% endif %}
  bool connected = WiFi.status() == WL_CONNECTED;
  if (connected != wifi_tcp_was_connected) {
    wifi_tcp_was_connected = connected;
    if (connected) {
      Serial.print(F("wifi: connected, listening on "));
      Serial.print(WiFi.localIP());
      Serial.print(':');
      Serial.println({{ TCP_PORT }});
    } else {
      Serial.println(F("wifi: disconnected, reconnecting"));
      wifi_tcp_drop(F("wifi lost"));
      WiFi.reconnect();
    }
  }
  if (wifi_tcp_server.hasClient()) {
    WiFiClient incoming = wifi_tcp_server.accept();
    if (wifi_tcp_client && wifi_tcp_client.connected()) {
      incoming.print(F("{\"ok\":0,\"cmd\":\"\",\"error\":\"busy\"}\n"));
      incoming.stop();
    } else {
      wifi_tcp_client = incoming;
      wifi_tcp_client.setNoDelay(true);
      wifi_tcp_present = true;
      wifi_tcp_forget();
    }
  }
  if (!wifi_tcp_client) {
    if (wifi_tcp_present) {
      wifi_tcp_present = false;
      Serial.println(F("wifi: client left"));
      wifi_tcp_forget();
    }
    return;
  }
  const uint32_t quiet = millis() - wifi_tcp_since;
  if (!wifi_tcp_greeted && quiet > {{ TCP_HANDSHAKE_TIMEOUT_MS }}UL) {
    wifi_tcp_drop(F("{% if WIFI_KEY %}no handshake{% else %}no request{% endif %} in time"));
    return;
  }
  if (quiet > {{ TCP_IDLE_TIMEOUT_S }}UL * 1000UL) {
    wifi_tcp_drop(F("idle"));
    return;
  }
  while (wifi_tcp_client.available() > 0) {
{% if WIFI_KEY %}
    if (!wifi_tcp_take((uint8_t)wifi_tcp_client.read())) {
      wifi_tcp_drop(F("a message failed to authenticate"));
      return;
    }
{% else %}
    fw_feed((char)wifi_tcp_client.read());
    if (!fw_len && fw_frame_need == 0xFF) {  // a request ended (nothing is half received)
      wifi_tcp_greeted = true;
      wifi_tcp_since = millis();
    }
{% endif %}
  }
{% if WIFI_KEY %}
  wifi_tcp_sealed.send();
{% endif %}
}
