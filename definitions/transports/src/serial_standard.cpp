// serial_standard: {{ uart.name }} (RX pin {{ uart.rx }}, TX pin {{ uart.tx }}) at {{ BAUD_RATE }} baud.
{% if RS485_DE_PIN >= 0 %}
// RS-485: pin {{ RS485_DE_PIN }} enables the transceiver's driver only while a reply is sent.
class FwRs485 : public Print {
 public:
  using Print::write;
  size_t write(uint8_t c) override {
    if (!sending_) {
      digitalWrite({{ RS485_DE_PIN }}, HIGH);
      sending_ = true;
    }
    return {{ uart.name }}.write(c);
  }
  // After a reply: wait for its last stop bit (flush), then release the bus.
  void release() {
    if (!sending_) return;
    {{ uart.name }}.flush();
    digitalWrite({{ RS485_DE_PIN }}, LOW);
    sending_ = false;
  }

 private:
  bool sending_ = false;
};
static FwRs485 fw_rs485;
{% endif %}

static void fw_serial_begin() {
  {{ uart.name }}.begin({{ BAUD_RATE }});
{% if RS485_DE_PIN >= 0 %}
  pinMode({{ RS485_DE_PIN }}, OUTPUT);
  digitalWrite({{ RS485_DE_PIN }}, LOW);
  fw_out = &fw_rs485;
{% else %}
  fw_out = &{{ uart.name }};
{% endif %}
}

static void fw_serial_poll() {
  while ({{ uart.name }}.available() > 0) fw_feed((char){{ uart.name }}.read());
{% if RS485_DE_PIN >= 0 %}
  fw_rs485.release();
{% endif %}
}
