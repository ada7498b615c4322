/* An LD_PRELOAD shim that makes writes to chosen files fail, as a full or
 * failing disk would: the tests of what Phantom does when a checkpoint, a
 * metrics CSV or a JSON summary cannot be written.
 *
 *   PHANTOM_FAIL_WRITE_PATH   files whose path ends with this string (required;
 *                             a suffix, not a substring: Open MPI's I/O keeps
 *                             helper files named after the file, e.g.
 *                             F.locktest.0 and /tmp/.../F_cid-5.sm, mapped
 *                             into memory, which must keep working)
 *   PHANTOM_FAIL_WRITE_AFTER  writes to such files that succeed first (default 0)
 *   PHANTOM_FAIL_WRITE_ERRNO  ENOSPC (default) or EIO
 *
 * Once a write has failed, every later write to a matching file fails too
 * (a full disk stays full). Files are matched when opened (open, openat,
 * creat, fopen and their 64-bit forms); write, pwrite, writev and pwritev on
 * them fail with the errno. Everything else passes through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 65536
static unsigned char watched[MAX_FD];
static long writes_left = -1; /* -1: not read from the environment yet */
static int failing = 0;

static void* next(const char* name) {
  return dlsym(RTLD_NEXT, name);
}

static int matches(const char* path) {
  const char* want = getenv("PHANTOM_FAIL_WRITE_PATH");
  if (!path || !want || !*want) return 0;
  const size_t n = strlen(path), m = strlen(want);
  return n >= m && strcmp(path + n - m, want) == 0;
}

static void watch(int fd, const char* path) {
  if (fd >= 0 && fd < MAX_FD) watched[fd] = (unsigned char)matches(path);
}

/* 1 if this write to fd must fail (errno set). */
static int fail_now(int fd) {
  if (fd < 0 || fd >= MAX_FD || !watched[fd]) return 0;
  if (writes_left < 0) {
    const char* after = getenv("PHANTOM_FAIL_WRITE_AFTER");
    writes_left = after ? atol(after) : 0;
  }
  if (!failing && writes_left > 0) {
    --writes_left;
    return 0;
  }
  failing = 1;
  const char* e = getenv("PHANTOM_FAIL_WRITE_ERRNO");
  errno = (e && strcmp(e, "EIO") == 0) ? EIO : ENOSPC;
  return 1;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_LIKE(name)                               \
  int name(const char* path, int flags, ...) {        \
    va_list ap;                                       \
    va_start(ap, flags);                              \
    const mode_t mode = mode_arg(flags, ap);          \
    va_end(ap);                                       \
    int (*real)(const char*, int, ...) = next(#name); \
    const int fd = real(path, flags, mode);           \
    watch(fd, path);                                  \
    return fd;                                        \
  }
OPEN_LIKE(open)
OPEN_LIKE(open64)

#define OPENAT_LIKE(name)                                  \
  int name(int dir, const char* path, int flags, ...) {    \
    va_list ap;                                            \
    va_start(ap, flags);                                   \
    const mode_t mode = mode_arg(flags, ap);               \
    va_end(ap);                                            \
    int (*real)(int, const char*, int, ...) = next(#name); \
    const int fd = real(dir, path, flags, mode);           \
    watch(fd, path);                                       \
    return fd;                                             \
  }
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)

int creat(const char* path, mode_t mode) {
  int (*real)(const char*, mode_t) = next("creat");
  const int fd = real(path, mode);
  watch(fd, path);
  return fd;
}

#define FOPEN_LIKE(name)                                   \
  FILE* name(const char* path, const char* how) {          \
    FILE* (*real)(const char*, const char*) = next(#name); \
    FILE* f = real(path, how);                             \
    if (f) watch(fileno(f), path);                         \
    return f;                                              \
  }
FOPEN_LIKE(fopen)
FOPEN_LIKE(fopen64)

int close(int fd) {
  int (*real)(int) = next("close");
  if (fd >= 0 && fd < MAX_FD) watched[fd] = 0;
  return real(fd);
}

ssize_t write(int fd, const void* buf, size_t n) {
  ssize_t (*real)(int, const void*, size_t) = next("write");
  return fail_now(fd) ? -1 : real(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t at) {
  ssize_t (*real)(int, const void*, size_t, off_t) = next("pwrite");
  return fail_now(fd) ? -1 : real(fd, buf, n, at);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t at) {
  ssize_t (*real)(int, const void*, size_t, off_t) = next("pwrite64");
  return fail_now(fd) ? -1 : real(fd, buf, n, at);
}

ssize_t writev(int fd, const struct iovec* v, int n) {
  ssize_t (*real)(int, const struct iovec*, int) = next("writev");
  return fail_now(fd) ? -1 : real(fd, v, n);
}

ssize_t pwritev(int fd, const struct iovec* v, int n, off_t at) {
  ssize_t (*real)(int, const struct iovec*, int, off_t) = next("pwritev");
  return fail_now(fd) ? -1 : real(fd, v, n, at);
}
