// wifi_tcp transport (ESP8266): one TCP client at a time on TCP_PORT.
// A second client is told it is busy and closed. Status lines go to Serial for the user.
static WiFiServer wifi_tcp_server({{ TCP_PORT }});
static WiFiClient wifi_tcp_client;
static bool wifi_tcp_was_connected = false;

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
      wifi_tcp_client.stop();
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
      fw_reset_line();
      fw_frames_on = false;  // each client turns frames on for itself
      fw_out = &wifi_tcp_client;
    }
  }
  while (wifi_tcp_client && wifi_tcp_client.available() > 0) fw_feed((char)wifi_tcp_client.read());
}
