{% if uart.usb_cdc %}
// serial_standard: {{ uart.name }}, native USB (CDC ACM; BAUD_RATE {{ BAUD_RATE }} is not used on the wire).
{% else %}
// serial_standard: {{ uart.name }} (RX pin {{ uart.rx }}, TX pin {{ uart.tx }}) at {{ BAUD_RATE }} baud.
{% endif %}
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

// Feeds what arrived; checks for lost bytes with every byte it reads, so no line that follows
// a loss is answered as if it were whole.
static void fw_serial_poll() {
  for (int waiting = {{ uart.name }}.available(); waiting > 0; waiting = {{ uart.name }}.available()) {
{% if uart.usb_cdc %}
    // USB flow control: the host sends no more than the endpoint takes, so nothing is lost here.
    fw_feed((char){{ uart.name }}.read());
{% elif arch == "avr" %}
    // The core's ring holds SERIAL_RX_BUFFER_SIZE - 1 bytes and silently drops what arrives while
    // it is full: a full ring means bytes right after these may be lost. The window declared in
    // INFO keeps a host that honours it from ever filling it.
    if (waiting >= SERIAL_RX_BUFFER_SIZE - 1) fw_rx_lost((uint16_t)waiting);
    fw_feed((char){{ uart.name }}.read());
{% else %}
    const char c = (char){{ uart.name }}.read();
    // The core's ring or the UART's FIFO overflowed (the ring drops its oldest bytes): some byte
    // between the line in progress and the last one waiting is lost. Checked after the read, so
    // a loss just before it is seen too.
    if ({{ uart.name }}.hasOverrun()) fw_rx_lost((uint16_t)({{ uart.name }}.available() + 1));
    fw_feed(c);
{% endif %}
  }
{% if RS485_DE_PIN >= 0 %}
  fw_rs485.release();
{% endif %}
}
