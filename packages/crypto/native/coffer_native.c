/*
 * Batched ChaCha20-Poly1305 for age's STREAM payload (SPEC §5), on libuv's thread pool.
 *
 * This composes OpenSSL's audited AEAD, the same one node:crypto uses (Node exports its OpenSSL
 * symbols to addons); it adds no cryptography of its own. What it saves is overhead: one call seals
 * or opens many 64 KiB chunks straight into a caller-owned buffer, off the JavaScript thread.
 * Only full, non-final chunks come through here; the final chunk stays on the JavaScript path.
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 65536
#define TAG 16
#define SEALED (CHUNK + TAG)
#define KEY_BYTES 32
#define MAX_SAFE 9007199254740991.0 /* 2^53 - 1: counters arrive as JavaScript numbers */

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref, output_ref;
  uint8_t key[KEY_BYTES];
  const uint8_t *input;
  uint8_t *output;
  size_t chunks;
  uint64_t counter;
  int seal; /* 1: seal, 0: open */
  int ok;
} Job;

/* age STREAM nonce: 11-byte big-endian counter, then the last-chunk flag (always 0 here). */
static void chunk_nonce(uint8_t nonce[12], uint64_t counter) {
  memset(nonce, 0, 12);
  for (int i = 10; i >= 3; i--) {
    nonce[i] = (uint8_t)(counter & 0xff);
    counter >>= 8;
  }
}

static int seal_chunks(Job *j) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return 0;
  int ok = EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, j->key, NULL);
  for (size_t i = 0; ok && i < j->chunks; i++) {
    uint8_t nonce[12];
    int len = 0;
    const uint8_t *in = j->input + i * CHUNK;
    uint8_t *out = j->output + i * SEALED;
    chunk_nonce(nonce, j->counter + i);
    ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) && EVP_EncryptUpdate(ctx, out, &len, in, CHUNK) &&
         len == CHUNK && EVP_EncryptFinal_ex(ctx, out + CHUNK, &len) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG, out + CHUNK);
  }
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

static int open_chunks(Job *j) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return 0;
  int ok = EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, j->key, NULL);
  for (size_t i = 0; ok && i < j->chunks; i++) {
    uint8_t nonce[12];
    uint8_t tag[TAG];
    int len = 0;
    const uint8_t *in = j->input + i * SEALED;
    uint8_t *out = j->output + i * CHUNK;
    chunk_nonce(nonce, j->counter + i);
    memcpy(tag, in + CHUNK, TAG);
    /* OpenSSL compares the tag in constant time inside EVP_DecryptFinal_ex. */
    ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG, tag) &&
         EVP_DecryptUpdate(ctx, out, &len, in, CHUNK) && len == CHUNK && EVP_DecryptFinal_ex(ctx, out + CHUNK, &len);
  }
  EVP_CIPHER_CTX_free(ctx);
  /* Unauthenticated plaintext never leaves: a failed batch hands back zeros only. */
  if (!ok) OPENSSL_cleanse(j->output, j->chunks * CHUNK);
  return ok;
}

static void execute(napi_env env, void *data) {
  (void)env;
  Job *j = data;
  j->ok = j->seal ? seal_chunks(j) : open_chunks(j);
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *j = data;
  napi_value result;
  napi_get_boolean(env, status == napi_ok && j->ok, &result);
  napi_resolve_deferred(env, j->deferred, result);
  napi_delete_reference(env, j->input_ref);
  napi_delete_reference(env, j->output_ref);
  napi_delete_async_work(env, j->work);
  OPENSSL_cleanse(j->key, KEY_BYTES);
  free(j);
}

static int bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *p = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, v, &type, length, &p, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

/* (key: Uint8Array(32), counter: number, input: Uint8Array, output: Uint8Array) => Promise<boolean> */
static napi_value start(napi_env env, napi_callback_info info, int seal) {
  size_t argc = 4;
  napi_value argv[4];
  uint8_t *key, *input, *output;
  size_t key_len, in_len, out_len;
  double counter;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 || !bytes_of(env, argv[0], &key, &key_len) ||
      napi_get_value_double(env, argv[1], &counter) != napi_ok || !bytes_of(env, argv[2], &input, &in_len) ||
      !bytes_of(env, argv[3], &output, &out_len)) {
    napi_throw_type_error(env, NULL, "expected (key, counter, input, output)");
    return NULL;
  }
  size_t in_unit = seal ? CHUNK : SEALED, out_unit = seal ? SEALED : CHUNK;
  size_t chunks = in_len / in_unit;
  /* Validate at the boundary: every length and the counter range, before any memory is touched. */
  if (key_len != KEY_BYTES || in_len == 0 || in_len % in_unit != 0 || out_len != chunks * out_unit || !(counter >= 0) ||
      counter != (double)(uint64_t)counter || counter + (double)chunks > MAX_SAFE) {
    napi_throw_range_error(env, NULL, "bad key, counter or buffer length");
    return NULL;
  }
  Job *j = calloc(1, sizeof(Job));
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  memcpy(j->key, key, KEY_BYTES);
  j->input = input;
  j->output = output;
  j->chunks = chunks;
  j->counter = (uint64_t)counter;
  j->seal = seal;
  napi_value promise, name;
  /* The references keep both buffers alive until the thread pool is done with them. */
  napi_create_reference(env, argv[2], 1, &j->input_ref);
  napi_create_reference(env, argv[3], 1, &j->output_ref);
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "coffer:stream-chunks", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

static napi_value seal_chunks_js(napi_env env, napi_callback_info info) { return start(env, info, 1); }
static napi_value open_chunks_js(napi_env env, napi_callback_info info) { return start(env, info, 0); }

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "sealChunks", NAPI_AUTO_LENGTH, seal_chunks_js, NULL, &fn);
  napi_set_named_property(env, exports, "sealChunks", fn);
  napi_create_function(env, "openChunks", NAPI_AUTO_LENGTH, open_chunks_js, NULL, &fn);
  napi_set_named_property(env, exports, "openChunks", fn);
  return exports;
}
