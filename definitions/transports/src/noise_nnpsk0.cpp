// Noise_NNpsk0_25519_ChaChaPoly_SHA256, responder side (https://noiseprotocol.org/noise.html,
// revision 34): the handshake "-> psk, e  <- e, ee" and the transport messages after it.
// Every primitive is the ESP8266 core's BearSSL: X25519 (br_ec_c25519_m15), ChaCha20-Poly1305
// (br_poly1305_ctmul_run over br_chacha20_ct_run), SHA-256 and HMAC-SHA256 (br_sha256, br_hmac);
// only HKDF, which the Noise spec defines on top of HMAC, is written here. It needs no Arduino
// header: tools/noise_native (tests) compiles this file for the host against the same BearSSL.
#ifdef FW_NOISE  // defined by wifi_tcp_keyed.h.j2 when the env has a key
#include <bearssl/bearssl.h>
#include <string.h>

#define FW_NOISE_KEY 32    // a key, a hash, an X25519 public key or private scalar
#define FW_NOISE_TAG 16    // the Poly1305 tag closing every sealed message
#define FW_NOISE_HELLO 48  // the initiator's first message: its ephemeral key and an empty sealed payload

static const char FW_NOISE_NAME[] = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";
static const char FW_NOISE_PROLOGUE[] = "firmware-generator wifi_tcp 1";  // docs/protocol.md

struct FwNoiseCipher {
  uint8_t k[FW_NOISE_KEY];
  uint64_t n;  // the nonce: messages sealed or opened with this key so far
};

struct FwNoise {
  uint8_t ck[FW_NOISE_KEY];  // chaining key
  uint8_t h[FW_NOISE_KEY];   // handshake hash
  FwNoiseCipher hs;          // the handshake's cipher
  FwNoiseCipher rx;          // after the handshake: initiator to responder
  FwNoiseCipher tx;          // responder to initiator
};

// HMAC-SHA256(key, a || b).
static void fw_noise_hmac(const uint8_t* key, const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
                          uint8_t* out) {
  br_hmac_key_context kc;
  br_hmac_context ctx;
  br_hmac_key_init(&kc, &br_sha256_vtable, key, FW_NOISE_KEY);
  br_hmac_init(&ctx, &kc, 0);
  br_hmac_update(&ctx, a, a_len);
  br_hmac_update(&ctx, b, b_len);
  br_hmac_out(&ctx, out);
}

// Noise's HKDF(ck, ikm): out1 = HMAC(t, 0x01), out2 = HMAC(t, out1 || 0x02) with t = HMAC(ck, ikm);
// out3 = HMAC(t, out2 || 0x03) when asked for.
static void fw_noise_hkdf(const uint8_t* ck, const uint8_t* ikm, size_t ikm_len, uint8_t* out1, uint8_t* out2,
                          uint8_t* out3) {
  uint8_t temp[FW_NOISE_KEY];
  const uint8_t one = 1, two = 2, three = 3;
  fw_noise_hmac(ck, ikm, ikm_len, nullptr, 0, temp);
  fw_noise_hmac(temp, &one, 1, nullptr, 0, out1);
  fw_noise_hmac(temp, out1, FW_NOISE_KEY, &two, 1, out2);
  if (out3) fw_noise_hmac(temp, out2, FW_NOISE_KEY, &three, 1, out3);
  memset(temp, 0, sizeof temp);
}

static void fw_noise_mix_hash(FwNoise* s, const uint8_t* data, size_t len) {
  br_sha256_context sha;
  br_sha256_init(&sha);
  br_sha256_update(&sha, s->h, FW_NOISE_KEY);
  br_sha256_update(&sha, data, len);
  br_sha256_out(&sha, s->h);
}

// MixKey: a new chaining key and handshake key from `ikm`, nonce back to 0.
static void fw_noise_mix_key(FwNoise* s, const uint8_t* ikm, size_t len) {
  uint8_t ck[FW_NOISE_KEY];
  fw_noise_hkdf(s->ck, ikm, len, ck, s->hs.k, nullptr);
  memcpy(s->ck, ck, FW_NOISE_KEY);
  s->hs.n = 0;
}

// ChaChaPoly: the 96-bit nonce is 32 zero bits then n, little-endian. Seals data[0..len) in
// place and writes its tag at data[len].
static void fw_noise_seal(FwNoiseCipher* c, const uint8_t* ad, size_t ad_len, uint8_t* data, size_t len) {
  uint8_t iv[12] = {0};
  for (uint8_t i = 0; i < 8; i++) iv[4 + i] = (uint8_t)(c->n >> (8 * i));
  br_poly1305_ctmul_run(c->k, iv, data, len, ad, ad_len, data + len, br_chacha20_ct_run, 1);
  c->n++;
}

// Opens data[0..len) (the ciphertext, then its tag) in place: true, the plaintext in
// data[0..len - FW_NOISE_TAG), only when the tag holds (else the data is garbage: drop it).
static bool fw_noise_open(FwNoiseCipher* c, const uint8_t* ad, size_t ad_len, uint8_t* data, size_t len) {
  if (len < FW_NOISE_TAG) return false;
  const size_t body = len - FW_NOISE_TAG;
  uint8_t iv[12] = {0};
  uint8_t tag[FW_NOISE_TAG];
  for (uint8_t i = 0; i < 8; i++) iv[4 + i] = (uint8_t)(c->n >> (8 * i));
  br_poly1305_ctmul_run(c->k, iv, data, body, ad, ad_len, tag, br_chacha20_ct_run, 0);
  uint8_t diff = 0;
  for (uint8_t i = 0; i < FW_NOISE_TAG; i++) diff |= (uint8_t)(tag[i] ^ data[body + i]);
  if (diff) return false;
  c->n++;
  return true;
}

// The responder's whole handshake. `hello` is the initiator's first message (`len` bytes, its
// payload ignored), `e_secret` 32 fresh random bytes, `reply` receives the FW_NOISE_HELLO bytes
// of the answer. False, and nothing usable in `s`, when the hello is not sealed with `psk`.
static bool fw_noise_respond(FwNoise* s, const uint8_t* psk, uint8_t* hello, size_t len,
                             const uint8_t* e_secret, uint8_t* reply) {
  const br_ec_impl* ec = &br_ec_c25519_m15;
  if (len < FW_NOISE_HELLO) return false;
  // Initialize: the name is longer than a hash, so h = SHA-256(name); ck = h.
  br_sha256_context sha;
  br_sha256_init(&sha);
  br_sha256_update(&sha, FW_NOISE_NAME, sizeof FW_NOISE_NAME - 1);
  br_sha256_out(&sha, s->h);
  memcpy(s->ck, s->h, FW_NOISE_KEY);
  fw_noise_mix_hash(s, (const uint8_t*)FW_NOISE_PROLOGUE, sizeof FW_NOISE_PROLOGUE - 1);
  // <- psk: MixKeyAndHash(psk).
  uint8_t ck[FW_NOISE_KEY], mixed[FW_NOISE_KEY];
  fw_noise_hkdf(s->ck, psk, FW_NOISE_KEY, ck, mixed, s->hs.k);
  memcpy(s->ck, ck, FW_NOISE_KEY);
  fw_noise_mix_hash(s, mixed, FW_NOISE_KEY);
  s->hs.n = 0;
  // <- e: the initiator's ephemeral key, hashed and (a psk handshake) mixed into the key.
  uint8_t re[FW_NOISE_KEY];
  memcpy(re, hello, FW_NOISE_KEY);
  fw_noise_mix_hash(s, re, FW_NOISE_KEY);
  fw_noise_mix_key(s, re, FW_NOISE_KEY);
  // <- payload: DecryptAndHash, the hash before the opening (it covers the ciphertext).
  uint8_t ad[FW_NOISE_KEY];
  memcpy(ad, s->h, FW_NOISE_KEY);
  fw_noise_mix_hash(s, hello + FW_NOISE_KEY, len - FW_NOISE_KEY);
  if (!fw_noise_open(&s->hs, ad, FW_NOISE_KEY, hello + FW_NOISE_KEY, len - FW_NOISE_KEY)) return false;
  // -> e: ours, hashed and mixed.
  ec->mulgen(reply, e_secret, FW_NOISE_KEY, BR_EC_curve25519);
  fw_noise_mix_hash(s, reply, FW_NOISE_KEY);
  fw_noise_mix_key(s, reply, FW_NOISE_KEY);
  // -> ee: DH(our e, their e).
  ec->mul(re, FW_NOISE_KEY, e_secret, FW_NOISE_KEY, BR_EC_curve25519);
  fw_noise_mix_key(s, re, FW_NOISE_KEY);
  memset(re, 0, sizeof re);
  // -> payload: empty, sealed (its tag only), then hashed.
  uint8_t* tag = reply + FW_NOISE_KEY;
  fw_noise_seal(&s->hs, s->h, FW_NOISE_KEY, tag, 0);
  fw_noise_mix_hash(s, tag, FW_NOISE_TAG);
  // Split: the first key for what the initiator sends, the second for what we send.
  fw_noise_hkdf(s->ck, nullptr, 0, s->rx.k, s->tx.k, nullptr);
  s->rx.n = 0;
  s->tx.n = 0;
  memset(&s->hs, 0, sizeof s->hs);
  memset(s->ck, 0, sizeof s->ck);
  return true;
}

#endif  // FW_NOISE
