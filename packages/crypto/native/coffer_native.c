/*
 * Bulk work off the JavaScript thread, on libuv's thread pool: batched ChaCha20-Poly1305 for age's
 * STREAM payload (SPEC §5), and SHA-256 over a stream.
 *
 * This composes OpenSSL's audited primitives, the same code node:crypto runs (Node exports its
 * OpenSSL symbols to addons); it adds no cryptography of its own. What it saves is overhead: one
 * call seals or opens many 64 KiB chunks straight into a caller-owned buffer, and hashing runs on
 * another core. Only full, non-final chunks come through here; the final chunk stays in JavaScript.
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

enum { OPEN, SEAL, HASH };

/* A SHA-256 in progress. `busy` refuses a second update before the first is done. */
typedef struct {
  EVP_MD_CTX *md;
  int busy, done;
} Hash;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref, output_ref; /* output_ref holds the Hash's External for HASH */
  uint8_t key[KEY_BYTES];
  const uint8_t *input;
  uint8_t *output;
  size_t chunks;
  uint64_t counter;
  size_t length; /* HASH: bytes of input */
  Hash *hash;
  int kind;
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
  if (j->kind == HASH) j->ok = EVP_DigestUpdate(j->hash->md, j->input, j->length);
  else j->ok = j->kind == SEAL ? seal_chunks(j) : open_chunks(j);
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *j = data;
  napi_value result;
  napi_get_boolean(env, status == napi_ok && j->ok, &result);
  napi_resolve_deferred(env, j->deferred, result);
  if (j->hash) j->hash->busy = 0;
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

/* The references keep the buffers (and a Hash) alive until the thread pool is done with them. */
static napi_value queue(napi_env env, Job *j, napi_value input, napi_value output) {
  napi_value promise, name;
  napi_create_reference(env, input, 1, &j->input_ref);
  napi_create_reference(env, output, 1, &j->output_ref);
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "coffer:native", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
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
  j->kind = seal ? SEAL : OPEN;
  return queue(env, j, argv[2], argv[3]);
}

static napi_value seal_chunks_js(napi_env env, napi_callback_info info) { return start(env, info, 1); }
static napi_value open_chunks_js(napi_env env, napi_callback_info info) { return start(env, info, 0); }

static void free_hash(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Hash *h = data;
  EVP_MD_CTX_free(h->md);
  free(h);
}

/* () => External: a fresh SHA-256. */
static napi_value sha256_new(napi_env env, napi_callback_info info) {
  (void)info;
  Hash *h = calloc(1, sizeof(Hash));
  napi_value result;
  if (!h || !(h->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(h->md, EVP_sha256(), NULL)) {
    if (h) EVP_MD_CTX_free(h->md);
    free(h);
    napi_throw_error(env, NULL, "cannot start SHA-256");
    return NULL;
  }
  napi_create_external(env, h, free_hash, NULL, &result);
  return result;
}

static Hash *hash_of(napi_env env, napi_value v) {
  napi_valuetype type;
  void *h = NULL;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external || napi_get_value_external(env, v, &h) != napi_ok) return NULL;
  return h;
}

/* (hash: External, data: Uint8Array) => Promise<boolean>. One update at a time per hash. */
static napi_value sha256_update(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  Hash *h;
  uint8_t *data;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !(h = hash_of(env, argv[0])) ||
      !bytes_of(env, argv[1], &data, &length)) {
    napi_throw_type_error(env, NULL, "expected (hash, data)");
    return NULL;
  }
  if (h->busy || h->done) {
    napi_throw_error(env, NULL, h->done ? "SHA-256: already finished" : "SHA-256: an update is still running");
    return NULL;
  }
  Job *j = calloc(1, sizeof(Job));
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  h->busy = 1;
  j->kind = HASH;
  j->hash = h;
  j->input = data;
  j->length = length;
  return queue(env, j, argv[1], argv[0]);
}

/* (hash: External) => Buffer(32). The hash is finished: a further update or digest is refused. */
static napi_value sha256_digest(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  Hash *h;
  void *out;
  unsigned int length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || !(h = hash_of(env, argv[0]))) {
    napi_throw_type_error(env, NULL, "expected (hash)");
    return NULL;
  }
  if (h->busy || h->done) {
    napi_throw_error(env, NULL, h->done ? "SHA-256: already finished" : "SHA-256: an update is still running");
    return NULL;
  }
  napi_create_buffer(env, 32, &out, &result);
  if (!EVP_DigestFinal_ex(h->md, out, &length) || length != 32) {
    napi_throw_error(env, NULL, "SHA-256 failed");
    return NULL;
  }
  h->done = 1;
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "sha256New", NAPI_AUTO_LENGTH, sha256_new, NULL, &fn);
  napi_set_named_property(env, exports, "sha256New", fn);
  napi_create_function(env, "sha256Update", NAPI_AUTO_LENGTH, sha256_update, NULL, &fn);
  napi_set_named_property(env, exports, "sha256Update", fn);
  napi_create_function(env, "sha256Digest", NAPI_AUTO_LENGTH, sha256_digest, NULL, &fn);
  napi_set_named_property(env, exports, "sha256Digest", fn);
  napi_create_function(env, "sealChunks", NAPI_AUTO_LENGTH, seal_chunks_js, NULL, &fn);
  napi_set_named_property(env, exports, "sealChunks", fn);
  napi_create_function(env, "openChunks", NAPI_AUTO_LENGTH, open_chunks_js, NULL, &fn);
  napi_set_named_property(env, exports, "openChunks", fn);
  return exports;
}
