/*
 * Batched small-file I/O, and lstat of many entries of a folder, on libuv's thread pool.
 *
 * A tree of many small files is bound by per-file overhead, not bandwidth: each open, read, fstat
 * and close made from JavaScript costs the main thread a few µs, blocking or through the pool.
 * Here one job does a whole batch of them, in order, off the JavaScript thread, with plain POSIX
 * calls: no new file-system semantics, only fewer trips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#endif
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>
#ifdef COFFER_LIBDEFLATE
/* libdeflate's CRC-32 uses PCLMULQDQ/VPCLMULQDQ where the CPU has them (several times zlib's);
 * binding.gyp links it when its header is installed. Same polynomial and conventions as zlib. */
#include <libdeflate.h>
#define CRC32(crc, p, n) libdeflate_crc32((uint32_t)(crc), (p), (n))
#else
#define CRC32(crc, p, n) crc32((crc), (p), (uInt)(n))
#endif

/* A result for a path that is there but not a regular file (swapped since the scan). */
#define NOT_A_FILE (-1000000.0)
/* Per file: status (bytes read, or -errno, or NOT_A_FILE), size, mtime seconds, mtime nanoseconds. */
#define READ_FIELDS 4

typedef struct {
  uint8_t *data;
  size_t length;
  napi_ref ref; /* keeps the buffer alive until the thread pool is done with it */
} Item;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *paths; /* NUL-separated, one per item */
  Item *items;
  size_t count;
  double *results;
  napi_ref results_ref;
} ReadJob;

static int open_file(const char *path, int flags, mode_t mode) {
  int fd;
  do fd = open(path, flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

/* Whether openat2(2) with RESOLVE_NO_SYMLINKS works here (Linux 5.6+, not blocked by seccomp). */
static int have_openat2 = 0;

#if defined(RESOLVE_NO_SYMLINKS) && defined(SYS_openat2)
static void probe_openat2(void) {
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
  int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
  if (fd >= 0) {
    have_openat2 = 1;
    close(fd);
  }
}

/*
 * Opens a path of the source (absolute, symlinks resolved out of its root) to read. No component
 * may be a symlink: a folder swapped for a link to elsewhere during a backup would otherwise let
 * files from outside the source into it (ELOOP instead). Where openat2 is missing, only the last
 * component is protected (O_NOFOLLOW).
 */
static int open_in_source(const char *path, int flags) {
  if (!have_openat2) return open_file(path, flags | O_NOFOLLOW, 0);
  struct open_how how = {.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC), .resolve = RESOLVE_NO_SYMLINKS};
  int fd;
  do fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  return fd;
}
#else
static void probe_openat2(void) {}
static int open_in_source(const char *path, int flags) { return open_file(path, flags | O_NOFOLLOW, 0); }
#endif

/* Opens one file to read, or returns -errno. */
static int open_to_read(const char *path) {
  /* O_NONBLOCK: a file swapped for a FIFO does not hang the open (no effect on regular files). */
  int fd = open_in_source(path, O_RDONLY | O_NONBLOCK);
  return fd < 0 ? -errno : fd;
}

/* One file of a batch being read: its descriptor (or -errno), and how much of it is read. */
typedef struct {
  int fd;
  size_t filled;
  int done;
} Reading;

/* Ends a read: zero-fills what the file no longer holds, records its size and mtime, closes it. */
static void finish_read(Reading *f, uint8_t *data, size_t length, double *r) {
  struct stat st;
  if (f->filled < length) memset(data + f->filled, 0, length - f->filled); /* shrank: zeros, never stale bytes */
  /* Size and mtime after the read, for the caller to compare with what its scan saw. */
  if (fstat(f->fd, &st) != 0) {
    r[0] = -(double)errno;
  } else {
    r[0] = (double)f->filled;
    r[1] = (double)st.st_size;
    r[2] = (double)st.st_mtim.tv_sec;
    r[3] = (double)st.st_mtim.tv_nsec;
  }
  close(f->fd);
  f->done = 1;
}

static void fail_read(Reading *f, int err, double *r) {
  r[0] = -(double)err;
  if (f->fd >= 0) close(f->fd);
  f->done = 1;
}

/* Reads on until `length` bytes or end of file; with `nowait`, only what the page cache holds.
 * Returns 1 when the read is over (finished or failed), 0 when the disk must be waited for. */
static int read_on(Reading *f, uint8_t *data, size_t length, double *r, int nowait) {
  while (f->filled < length) {
    ssize_t n;
#ifdef RWF_NOWAIT
    struct iovec iov = {data + f->filled, length - f->filled};
    n = nowait ? preadv2(f->fd, &iov, 1, (off_t)f->filled, RWF_NOWAIT) : pread(f->fd, data + f->filled, length - f->filled, (off_t)f->filled);
#else
    if (nowait) return 0;
    n = pread(f->fd, data + f->filled, length - f->filled, (off_t)f->filled);
#endif
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && nowait && (errno == EAGAIN || errno == EOPNOTSUPP)) return 0;
    if (n < 0) return fail_read(f, errno, r), 1;
    if (n == 0) break;
    f->filled += (size_t)n;
  }
  finish_read(f, data, length, r);
  return 1;
}

/* Files opened, and read as far as the page cache holds them, before the rest is waited for. */
#define READ_WINDOW 32

static void read_execute(napi_env env, void *data) {
  (void)env;
  ReadJob *j = data;
  const char *path = j->paths;
  Reading files[READ_WINDOW];
  for (size_t start = 0; start < j->count; start += READ_WINDOW) {
    size_t end = start + READ_WINDOW < j->count ? start + READ_WINDOW : j->count;
    for (size_t i = start; i < end; i++) {
      Reading *f = &files[i - start];
      uint8_t *bytes = j->items[i].data;
      size_t length = j->items[i].length;
      double *r = j->results + i * READ_FIELDS;
      struct stat st;
      *f = (Reading){open_to_read(path), 0, 0};
      path += strlen(path) + 1;
      if (f->fd < 0) {
        r[0] = (double)f->fd;
        f->done = 1;
      } else if (fstat(f->fd, &st) != 0) {
        fail_read(f, errno, r);
      } else if (!S_ISREG(st.st_mode)) {
        /* A folder fails as reading one fails (EISDIR); anything else is no file at all. */
        r[0] = S_ISDIR(st.st_mode) ? -(double)EISDIR : NOT_A_FILE;
        close(f->fd);
        f->done = 1;
      } else if (!read_on(f, bytes, length, r, 1)) {
        /* Not in the page cache: asked for now, so that the disk reads the window's files at
         * once rather than one at a time as each read waits. A cold tree of 100,000 small files
         * was read 2.4 times as fast; a warm one never comes here. */
        posix_fadvise(f->fd, (off_t)f->filled, (off_t)(length - f->filled), POSIX_FADV_WILLNEED);
      }
    }
    for (size_t i = start; i < end; i++)
      if (!files[i - start].done) read_on(&files[i - start], j->items[i].data, j->items[i].length, j->results + i * READ_FIELDS, 0);
  }
}

static void settle(napi_env env, napi_status status, napi_deferred deferred, const char *cancelled) {
  napi_value value;
  if (status == napi_ok) {
    napi_get_undefined(env, &value);
    napi_resolve_deferred(env, deferred, value);
    return;
  }
  napi_value message;
  napi_create_string_utf8(env, cancelled, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &value);
  napi_reject_deferred(env, deferred, value);
}

static void read_complete(napi_env env, napi_status status, void *data) {
  ReadJob *j = data;
  settle(env, status, j->deferred, "batch read was cancelled");
  for (size_t i = 0; i < j->count; i++) napi_delete_reference(env, j->items[i].ref);
  napi_delete_reference(env, j->results_ref);
  napi_delete_async_work(env, j->work);
  free(j->paths);
  free(j->items);
  free(j);
}

static int typed_array_of(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok || type != want) return 0;
  return 1;
}

/* The length of a non-empty array of buffers. */
static int item_count(napi_env env, napi_value array, uint32_t *count) {
  bool is_array = false;
  return napi_is_array(env, array, &is_array) == napi_ok && is_array && napi_get_array_length(env, array, count) == napi_ok && *count > 0;
}

/* Copies a JavaScript string of `count` NUL-separated, non-empty paths; NULL if it is not one. */
static char *paths_of(napi_env env, napi_value v, size_t count) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &length) != napi_ok) return NULL;
  char *paths = malloc(length + 1);
  if (!paths) return NULL;
  napi_get_value_string_utf8(env, v, paths, length + 1, &length);
  size_t seen = 0, start = 0;
  for (size_t i = 0; i <= length; i++) {
    if (paths[i] != '\0') continue;
    if (i == start) break; /* an empty path */
    seen++;
    start = i + 1;
  }
  if (seen != count || start != length + 1) {
    free(paths);
    return NULL;
  }
  return paths;
}

/* The paths and buffers of a batch, each buffer referenced until the job completes; NULL if
 * either is malformed (nothing is then referenced). */
static Item *items_of(napi_env env, napi_value paths_value, napi_value buffers, uint32_t count, char **paths) {
  Item *items = calloc(count, sizeof(Item));
  *paths = paths_of(env, paths_value, count);
  napi_value element;
  for (uint32_t i = 0; items && *paths && i < count; i++) {
    if (napi_get_element(env, buffers, i, &element) == napi_ok &&
        typed_array_of(env, element, napi_uint8_array, (void **)&items[i].data, &items[i].length))
      continue;
    free(items);
    items = NULL;
  }
  if (!items || !*paths) {
    free(items);
    free(*paths);
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_get_element(env, buffers, i, &element);
    napi_create_reference(env, element, 1, &items[i].ref);
  }
  return items;
}

static napi_value queue(napi_env env, const char *label, napi_async_execute_callback execute, napi_async_complete_callback complete,
                        void *job, napi_deferred *deferred, napi_async_work *work) {
  napi_value promise, name;
  napi_create_promise(env, deferred, &promise);
  napi_create_string_utf8(env, label, NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, work);
  napi_queue_async_work(env, *work);
  return promise;
}

/* (paths: string, buffers: Uint8Array[], results: Float64Array) => Promise<void> */
static napi_value read_files_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  uint32_t count = 0;
  double *results;
  size_t results_length;
  const char *usage = "expected (paths: string, buffers: Uint8Array[], results: Float64Array)";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 || !item_count(env, argv[1], &count) ||
      !typed_array_of(env, argv[2], napi_float64_array, (void **)&results, &results_length) ||
      results_length != (size_t)count * READ_FIELDS) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  ReadJob *j = calloc(1, sizeof(ReadJob));
  if (!j || !(j->items = items_of(env, argv[0], argv[1], count, &j->paths))) {
    free(j);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  j->count = count;
  j->results = results;
  napi_create_reference(env, argv[2], 1, &j->results_ref);
  return queue(env, "coffer:read-files", read_execute, read_complete, j, &j->deferred, &j->work);
}

/* Per write batch: index of the file that failed (-1: none), -errno, and the failing call. */
#define WRITE_RESULTS 3
enum { STEP_OPEN, STEP_WRITE, STEP_FUTIMENS, STEP_CLOSE };
/* Per file: mode, then mtime in seconds (a JavaScript number, as fs.futimes takes it). */
#define WRITE_FIELDS 2

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *paths;
  Item *items;
  size_t count;
  double *meta;
  double *results;
  napi_ref meta_ref, results_ref;
} WriteJob;

/* libuv's conversion (uv__fs_to_timespec), so that a time set here equals one set by fs.futimes. */
static struct timespec to_timespec(double time) {
  struct timespec ts;
  ts.tv_sec = (time_t)time;
  ts.tv_nsec = (long)((time - (double)ts.tv_sec) * 1e9);
  ts.tv_nsec -= ts.tv_nsec % 1000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  return ts;
}

/* Creates one new file with `data`, its mode and its mtime (also its atime); 0 or a STEP_ on failure. */
static int write_one(const char *path, const uint8_t *data, size_t length, mode_t mode, double mtime, int *step) {
  /* O_EXCL and O_NOFOLLOW: never write into something that already exists, least of all a link. */
  int fd = open_file(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  if (fd < 0) return *step = STEP_OPEN, errno;
  for (size_t done = 0; done < length;) {
    ssize_t n = write(fd, data + done, length - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return *step = STEP_WRITE, err;
    }
    done += (size_t)n;
  }
  struct timespec times[2] = {to_timespec(mtime), to_timespec(mtime)};
  if (futimens(fd, times) != 0) {
    int err = errno;
    close(fd);
    return *step = STEP_FUTIMENS, err;
  }
  if (close(fd) != 0 && errno != EINTR) return *step = STEP_CLOSE, errno;
  return 0;
}

static void write_execute(napi_env env, void *data) {
  (void)env;
  WriteJob *j = data;
  const char *path = j->paths;
  j->results[0] = -1;
  for (size_t i = 0; i < j->count; i++) {
    int step = 0;
    const double *m = j->meta + i * WRITE_FIELDS;
    int err = write_one(path, j->items[i].data, j->items[i].length, (mode_t)m[0], m[1], &step);
    if (err) {
      /* The first failure ends the batch: a restore that failed is removed whole anyway. */
      j->results[0] = (double)i;
      j->results[1] = -(double)err;
      j->results[2] = step;
      return;
    }
    path += strlen(path) + 1;
  }
}

static void write_complete(napi_env env, napi_status status, void *data) {
  WriteJob *j = data;
  settle(env, status, j->deferred, "batch write was cancelled");
  for (size_t i = 0; i < j->count; i++) napi_delete_reference(env, j->items[i].ref);
  napi_delete_reference(env, j->meta_ref);
  napi_delete_reference(env, j->results_ref);
  napi_delete_async_work(env, j->work);
  free(j->paths);
  free(j->items);
  free(j);
}

/* (paths: string, buffers: Uint8Array[], meta: Float64Array, results: Float64Array) => Promise<void> */
static napi_value write_files_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  double *meta, *results;
  size_t meta_length, results_length;
  uint32_t count = 0;
  const char *usage = "expected (paths: string, buffers: Uint8Array[], meta: Float64Array, results: Float64Array)";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 || !item_count(env, argv[1], &count) ||
      !typed_array_of(env, argv[2], napi_float64_array, (void **)&meta, &meta_length) || meta_length != (size_t)count * WRITE_FIELDS ||
      !typed_array_of(env, argv[3], napi_float64_array, (void **)&results, &results_length) || results_length != WRITE_RESULTS) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  /* Validate at the boundary: a mode is 12 permission bits, a time a finite number. */
  for (uint32_t i = 0; i < count; i++) {
    double mode = meta[i * WRITE_FIELDS], mtime = meta[i * WRITE_FIELDS + 1];
    if (!(mode >= 0 && mode <= 07777 && mode == (double)(int)mode) || !(mtime > -9.2e18 && mtime < 9.2e18)) {
      napi_throw_range_error(env, NULL, "bad mode or mtime");
      return NULL;
    }
  }
  WriteJob *j = calloc(1, sizeof(WriteJob));
  if (!j || !(j->items = items_of(env, argv[0], argv[1], count, &j->paths))) {
    free(j);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  j->count = count;
  j->meta = meta;
  j->results = results;
  napi_create_reference(env, argv[2], 1, &j->meta_ref);
  napi_create_reference(env, argv[3], 1, &j->results_ref);
  return queue(env, "coffer:write-files", write_execute, write_complete, j, &j->deferred, &j->work);
}

/* Per name: st_mode (or -errno), size, mtime seconds, mtime nanoseconds. */
#define STAT_FIELDS 4

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *dir;
  char *names; /* NUL-separated, one per entry of `dir` */
  size_t count;
  double *results;
  napi_ref results_ref;
} StatJob;

static void stat_execute(napi_env env, void *data) {
  (void)env;
  StatJob *j = data;
  /* Each name is looked up in the folder itself, not through its whole path again: one step per
   * entry instead of one per path component. A folder swapped for a symlink since it was listed
   * is not followed, nor one above it: its entries are not those of the source. */
  int dirfd = open_in_source(j->dir, O_RDONLY | O_DIRECTORY);
  int dir_errno = errno;
  const char *name = j->names;
  for (size_t i = 0; i < j->count; i++, name += strlen(name) + 1) {
    double *r = j->results + i * STAT_FIELDS;
    struct stat st;
    if (dirfd < 0 || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      r[0] = -(double)(dirfd < 0 ? dir_errno : errno);
      continue;
    }
    r[0] = (double)st.st_mode;
    r[1] = (double)st.st_size;
    r[2] = (double)st.st_mtim.tv_sec;
    r[3] = (double)st.st_mtim.tv_nsec;
  }
  if (dirfd >= 0) close(dirfd);
}

static void stat_complete(napi_env env, napi_status status, void *data) {
  StatJob *j = data;
  settle(env, status, j->deferred, "batch stat was cancelled");
  napi_delete_reference(env, j->results_ref);
  napi_delete_async_work(env, j->work);
  free(j->dir);
  free(j->names);
  free(j);
}

/* (dir: string, names: string, count: number, results: Float64Array) => Promise<void> */
static napi_value stat_files_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  uint32_t count = 0;
  double *results;
  size_t results_length;
  const char *usage = "expected (dir: string, names: string, count: number, results: Float64Array)";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 || napi_get_value_uint32(env, argv[2], &count) != napi_ok ||
      count == 0 || !typed_array_of(env, argv[3], napi_float64_array, (void **)&results, &results_length) ||
      results_length != (size_t)count * STAT_FIELDS) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  StatJob *j = calloc(1, sizeof(StatJob));
  if (j) j->dir = paths_of(env, argv[0], 1);
  if (j && j->dir) j->names = paths_of(env, argv[1], count);
  /* A name is one path component: a separator in it would look somewhere else. */
  for (size_t i = 0, at = 0; j && j->names && i < count; i++) {
    const char *name = j->names + at;
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
      free(j->names);
      j->names = NULL;
    } else at += strlen(name) + 1;
  }
  if (!j || !j->dir || !j->names) {
    if (j) free(j->dir);
    free(j);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  j->count = count;
  j->results = results;
  napi_create_reference(env, argv[3], 1, &j->results_ref);
  return queue(env, "coffer:stat-files", stat_execute, stat_complete, j, &j->deferred, &j->work);
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd;
  const uint8_t *data;
  size_t length;
  double position;
  uint32_t crc;
  int err;
  napi_ref data_ref;
} WriteAtJob;

static void write_at_execute(napi_env env, void *data) {
  (void)env;
  WriteAtJob *j = data;
  for (size_t done = 0; done < j->length;) {
    ssize_t n = pwrite(j->fd, j->data + done, j->length - done, (off_t)j->position + (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      j->err = errno;
      return;
    }
    done += (size_t)n;
  }
  /* The CRC-32 of exactly the bytes written, taken while they are still in cache. (Nothing for
   * no bytes: an empty array's data may be NULL, which asks libdeflate for its initial value.) */
  if (j->length > 0) j->crc = (uint32_t)CRC32(j->crc, j->data, j->length);
}

static void write_at_complete(napi_env env, napi_status status, void *data) {
  WriteAtJob *j = data;
  napi_value value;
  if (status == napi_ok && j->err == 0) {
    napi_create_uint32(env, j->crc, &value);
    napi_resolve_deferred(env, j->deferred, value);
  } else {
    /* -errno (as a number) for the caller to name; a cancelled job rejects with 0. */
    napi_create_int32(env, status == napi_ok ? -j->err : 0, &value);
    napi_reject_deferred(env, j->deferred, value);
  }
  napi_delete_reference(env, j->data_ref);
  napi_delete_async_work(env, j->work);
  free(j);
}

/* (fd: number, data: Uint8Array, position: number, crc: number) => Promise<number>: writes all of
 * `data` at `position` and resolves to the CRC-32 of the bytes so far, given `crc` before them. */
static napi_value write_at_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd;
  double position, crc;
  void *bytes;
  size_t length;
  const char *usage = "expected (fd: number, data: Uint8Array, position: number, crc: number)";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      fd < 0 || !typed_array_of(env, argv[1], napi_uint8_array, &bytes, &length) || napi_get_value_double(env, argv[2], &position) != napi_ok ||
      !(position >= 0 && position <= 9007199254740991.0 && position == (double)(int64_t)position) ||
      napi_get_value_double(env, argv[3], &crc) != napi_ok || !(crc >= 0 && crc <= 4294967295.0 && crc == (double)(uint32_t)crc)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  WriteAtJob *j = calloc(1, sizeof(WriteAtJob));
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  j->fd = fd;
  j->data = bytes;
  j->length = length;
  j->position = position;
  j->crc = (uint32_t)crc;
  napi_create_reference(env, argv[1], 1, &j->data_ref);
  return queue(env, "coffer:write-at", write_at_execute, write_at_complete, j, &j->deferred, &j->work);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  probe_openat2();
  napi_get_boolean(env, have_openat2, &fn);
  napi_set_named_property(env, exports, "noSymlinksInPaths", fn);
  napi_create_function(env, "readFiles", NAPI_AUTO_LENGTH, read_files_js, NULL, &fn);
  napi_set_named_property(env, exports, "readFiles", fn);
  napi_create_function(env, "writeFiles", NAPI_AUTO_LENGTH, write_files_js, NULL, &fn);
  napi_set_named_property(env, exports, "writeFiles", fn);
  napi_create_function(env, "statFiles", NAPI_AUTO_LENGTH, stat_files_js, NULL, &fn);
  napi_set_named_property(env, exports, "statFiles", fn);
  napi_create_function(env, "writeAt", NAPI_AUTO_LENGTH, write_at_js, NULL, &fn);
  napi_set_named_property(env, exports, "writeAt", fn);
  return exports;
}
