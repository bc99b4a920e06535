// The firmware's Noise responder (definitions/transports/src/noise_nnpsk0.cpp.j2, rendered with a key), compiled for
// the host against the ESP8266 core's BearSSL, on stdin/stdout: each message framed by its length
// (2 bytes, big-endian) as the wifi_tcp transport frames them. It answers the handshake, then each
// transport message with "got:" and its plaintext, sealed. Exit 0 at the end of input; 2 when the
// handshake fails to authenticate, 3 when a message does; nothing is written for either.
// argv[1]: the key, 64 hex digits.
#include <stdio.h>
#include <stdlib.h>

#include "noise_nnpsk0.cpp"

static bool read_exact(uint8_t* out, size_t len) { return fread(out, 1, len, stdin) == len; }

// One framed message into buf; its size, or -1 at the end of input.
static long read_message(uint8_t* buf, size_t cap) {
  uint8_t head[2];
  if (!read_exact(head, 2)) return -1;
  const size_t size = ((size_t)head[0] << 8) | head[1];
  if (size > cap || !read_exact(buf, size)) exit(4);
  return (long)size;
}

static void write_message(const uint8_t* data, size_t len) {
  const uint8_t head[2] = {(uint8_t)(len >> 8), (uint8_t)len};
  fwrite(head, 1, 2, stdout);
  fwrite(data, 1, len, stdout);
  fflush(stdout);
}

int main(int argc, char** argv) {
  uint8_t psk[FW_NOISE_KEY];
  if (argc != 2) return 1;
  for (int i = 0; i < FW_NOISE_KEY; i++) {
    unsigned byte;
    if (sscanf(argv[1] + 2 * i, "%2x", &byte) != 1) return 1;
    psk[i] = (uint8_t)byte;
  }
  uint8_t e_secret[FW_NOISE_KEY];
  FILE* urandom = fopen("/dev/urandom", "rb");
  if (!urandom || fread(e_secret, 1, sizeof e_secret, urandom) != sizeof e_secret) return 1;
  fclose(urandom);

  static uint8_t buf[65536];
  static FwNoise noise;
  long size = read_message(buf, sizeof buf);
  if (size < 0) return 0;
  uint8_t reply[FW_NOISE_HELLO];
  if (!fw_noise_respond(&noise, psk, buf, (size_t)size, e_secret, reply)) return 2;
  write_message(reply, sizeof reply);
  while ((size = read_message(buf + 4, sizeof buf - 4 - FW_NOISE_TAG)) >= 0) {
    if (!fw_noise_open(&noise.rx, nullptr, 0, buf + 4, (size_t)size)) return 3;
    memcpy(buf, "got:", 4);
    const size_t plain = 4 + (size_t)size - FW_NOISE_TAG;
    fw_noise_seal(&noise.tx, nullptr, 0, buf, plain);
    write_message(buf, plain + FW_NOISE_TAG);
  }
  return 0;
}
