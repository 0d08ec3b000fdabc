/*
 * Batched ChaCha20-Poly1305 for age's STREAM payload (SPEC §3), on libuv's thread pool.
 *
 * This composes OpenSSL's audited AEAD, the same one node:crypto uses (Node exports its OpenSSL
 * symbols to addons); it adds no cryptography of its own. What it saves is overhead: one call seals
 * or opens many 64 KiB chunks, read from the caller's buffers where they lie (a chunk split across
 * two is gathered), straight into a caller-owned buffer, off the JavaScript thread.
 * Only full, non-final chunks come through here; the final chunk stays on the JavaScript path.
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef COFFER_LIBDEFLATE
/* libdeflate's CRC-32 uses PCLMULQDQ/VPCLMULQDQ where the CPU has them (about 5x zlib's here);
 * binding.gyp links it when its header is installed. Same polynomial and conventions as zlib. */
#include <libdeflate.h>
#define CRC32(crc, p, n) libdeflate_crc32((uint32_t)(crc), (p), (n))
#define CRC32_IMPLEMENTATION "libdeflate"
#else
#define CRC32(crc, p, n) crc32((crc), (p), (uInt)(n))
#define CRC32_IMPLEMENTATION "zlib"
#endif

#define CHUNK 65536
#define TAG 16
#define SEALED (CHUNK + TAG)
#define KEY_BYTES 32
#define MAX_SAFE 9007199254740991.0 /* 2^53 - 1: counters arrive as JavaScript numbers */

typedef struct {
  const uint8_t *data;
  size_t length;
  napi_ref ref; /* keeps the buffer alive until the thread pool is done with it */
} Span;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref output_ref;
  uint8_t key[KEY_BYTES];
  /* The input: these spans laid end to end; a unit may straddle two or more of them. */
  Span *spans;
  size_t span_count;
  uint8_t *output;
  size_t chunks;
  uint64_t counter;
  int seal; /* 1: seal, 0: open */
  int with_crc;  /* seal only: also the CRC-32 of the output, while it is in cache */
  uLong crc;
  int ok;
} Job;

/* Walks the spans unit by unit: a unit inside one span is used in place, one that straddles
 * spans is gathered into `gather` (a unit's worth of scratch memory). */
typedef struct {
  const Span *spans;
  size_t index, offset;
} Cursor;

static const uint8_t *next_unit(Cursor *c, size_t unit, uint8_t *gather) {
  while (c->spans[c->index].length == c->offset) c->index++, c->offset = 0;
  const Span *s = &c->spans[c->index];
  if (s->length - c->offset >= unit) {
    const uint8_t *p = s->data + c->offset;
    c->offset += unit;
    return p;
  }
  for (size_t got = 0; got < unit;) {
    while (c->spans[c->index].length == c->offset) c->index++, c->offset = 0;
    s = &c->spans[c->index];
    size_t n = s->length - c->offset < unit - got ? s->length - c->offset : unit - got;
    memcpy(gather + got, s->data + c->offset, n);
    got += n;
    c->offset += n;
  }
  return gather;
}

/* age STREAM nonce: 11-byte big-endian counter, then the last-chunk flag (always 0 here). */
static void chunk_nonce(uint8_t nonce[12], uint64_t counter) {
  memset(nonce, 0, 12);
  for (int i = 10; i >= 3; i--) {
    nonce[i] = (uint8_t)(counter & 0xff);
    counter >>= 8;
  }
}

static int seal_chunks(Job *j, uint8_t *gather) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return 0;
  Cursor cursor = {j->spans, 0, 0};
  int ok = EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, j->key, NULL);
  for (size_t i = 0; ok && i < j->chunks; i++) {
    uint8_t nonce[12];
    int len = 0;
    const uint8_t *in = next_unit(&cursor, CHUNK, gather);
    uint8_t *out = j->output + i * SEALED;
    chunk_nonce(nonce, j->counter + i);
    ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) && EVP_EncryptUpdate(ctx, out, &len, in, CHUNK) &&
         len == CHUNK && EVP_EncryptFinal_ex(ctx, out + CHUNK, &len) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG, out + CHUNK);
    if (j->with_crc) j->crc = CRC32(j->crc, out, SEALED);
  }
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

static int open_chunks(Job *j, uint8_t *gather) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return 0;
  Cursor cursor = {j->spans, 0, 0};
  int ok = EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, j->key, NULL);
  for (size_t i = 0; ok && i < j->chunks; i++) {
    uint8_t nonce[12];
    uint8_t tag[TAG];
    int len = 0;
    const uint8_t *in = next_unit(&cursor, SEALED, gather);
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
  uint8_t *gather = malloc(SEALED);
  j->ok = gather && (j->seal ? seal_chunks(j, gather) : open_chunks(j, gather));
  if (!gather && !j->seal) OPENSSL_cleanse(j->output, j->chunks * CHUNK);
  if (gather) {
    OPENSSL_cleanse(gather, SEALED); /* it may hold plaintext */
    free(gather);
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *j = data;
  napi_value result;
  int ok = status == napi_ok && j->ok;
  if (ok && j->with_crc) napi_create_uint32(env, (uint32_t)j->crc, &result);
  else napi_get_boolean(env, ok, &result);
  napi_resolve_deferred(env, j->deferred, result);
  for (size_t i = 0; i < j->span_count; i++) napi_delete_reference(env, j->spans[i].ref);
  napi_delete_reference(env, j->output_ref);
  napi_delete_async_work(env, j->work);
  OPENSSL_cleanse(j->key, KEY_BYTES);
  free(j->spans);
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

/* (key: Uint8Array(32), counter: number, inputs: Uint8Array[], output: Uint8Array[, crc32: boolean])
 *   => Promise<boolean>, or with crc32 (seal only) Promise<number | false> */
static napi_value start(napi_env env, napi_callback_info info, int seal) {
  size_t argc = 5;
  napi_value argv[5];
  bool with_crc = false;
  uint8_t *key, *output;
  size_t key_len, out_len;
  uint32_t span_count = 0;
  bool is_array = false;
  double counter;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || argc > (seal ? 5 : 4) ||
      (argc == 5 && napi_get_value_bool(env, argv[4], &with_crc) != napi_ok) || !bytes_of(env, argv[0], &key, &key_len) ||
      napi_get_value_double(env, argv[1], &counter) != napi_ok || napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[2], &span_count) != napi_ok || !bytes_of(env, argv[3], &output, &out_len)) {
    napi_throw_type_error(env, NULL, "expected (key, counter, inputs, output)");
    return NULL;
  }
  Job *j = calloc(1, sizeof(Job));
  Span *spans = calloc(span_count ? span_count : 1, sizeof(Span));
  if (!j || !spans) {
    free(j);
    free(spans);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  size_t in_len = 0;
  for (uint32_t i = 0; i < span_count; i++) {
    napi_value element;
    uint8_t *data;
    size_t length;
    if (napi_get_element(env, argv[2], i, &element) != napi_ok || !bytes_of(env, element, &data, &length)) {
      free(j);
      free(spans);
      napi_throw_type_error(env, NULL, "expected (key, counter, inputs, output)");
      return NULL;
    }
    spans[i].data = data;
    spans[i].length = length;
    in_len += length;
  }
  size_t in_unit = seal ? CHUNK : SEALED, out_unit = seal ? SEALED : CHUNK;
  size_t chunks = in_len / in_unit;
  /* Validate at the boundary: every length and the counter range, before any memory is touched. */
  if (key_len != KEY_BYTES || in_len == 0 || in_len % in_unit != 0 || out_len != chunks * out_unit || !(counter >= 0) ||
      counter != (double)(uint64_t)counter || counter + (double)chunks > MAX_SAFE) {
    free(j);
    free(spans);
    napi_throw_range_error(env, NULL, "bad key, counter or buffer length");
    return NULL;
  }
  memcpy(j->key, key, KEY_BYTES);
  j->spans = spans;
  j->span_count = span_count;
  j->output = output;
  j->chunks = chunks;
  j->counter = (uint64_t)counter;
  j->seal = seal;
  j->with_crc = with_crc;
  j->crc = crc32(0L, Z_NULL, 0);
  napi_value promise, name, element;
  /* The references keep every buffer alive until the thread pool is done with them. */
  for (uint32_t i = 0; i < span_count; i++) {
    napi_get_element(env, argv[2], i, &element);
    napi_create_reference(env, element, 1, &spans[i].ref);
  }
  napi_create_reference(env, argv[3], 1, &j->output_ref);
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "coffer:stream-chunks", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

/* (crc1: number, crc2: number, length2: number) => number: the CRC-32 of two pieces end to end (zlib). */
static napi_value crc32_combine_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  double v[3];
  int ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 3;
  /* Whole numbers only: CRCs below 2^32, the length below 2^53. */
  for (int i = 0; ok && i < 3; i++) {
    ok = napi_get_value_double(env, argv[i], &v[i]) == napi_ok && v[i] >= 0 && v[i] == (double)(uint64_t)v[i] &&
         v[i] <= (i < 2 ? 4294967295.0 : MAX_SAFE);
  }
  if (!ok) {
    napi_throw_type_error(env, NULL, "expected (crc1, crc2, length2)");
    return NULL;
  }
  napi_create_uint32(env, (uint32_t)crc32_combine64((uLong)v[0], (uLong)v[1], (z_off64_t)v[2]), &result);
  return result;
}

static napi_value seal_chunks_js(napi_env env, napi_callback_info info) { return start(env, info, 1); }
static napi_value open_chunks_js(napi_env env, napi_callback_info info) { return start(env, info, 0); }

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "sealChunks", NAPI_AUTO_LENGTH, seal_chunks_js, NULL, &fn);
  napi_set_named_property(env, exports, "sealChunks", fn);
  napi_create_function(env, "openChunks", NAPI_AUTO_LENGTH, open_chunks_js, NULL, &fn);
  napi_set_named_property(env, exports, "openChunks", fn);
  napi_create_function(env, "crc32Combine", NAPI_AUTO_LENGTH, crc32_combine_js, NULL, &fn);
  napi_set_named_property(env, exports, "crc32Combine", fn);
  napi_create_string_utf8(env, CRC32_IMPLEMENTATION, NAPI_AUTO_LENGTH, &fn);
  napi_set_named_property(env, exports, "crc32Implementation", fn);
  return exports;
}
