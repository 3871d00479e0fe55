/*
 * bt_os.h - the only header the target engine (kernel/core) may include.
 *
 * The engine is compiled three ways:
 *   - into the userspace host bollard-target (kernel/user), linked with libc;
 *   - into bollard_target.ko (kernel/linux), with __KERNEL__ defined;
 *   - with -ffreestanding -nostdinc as a build-time check (BT_FREESTANDING),
 *     so a libc or kernel header creeping into kernel/core fails the build.
 * So: no #include of anything but kernel/core headers, no libc calls. What the
 * engine needs from its host is declared here and implemented by the host
 * (kernel/user/os_user.c, kernel/linux/os_linux.c).
 *
 * Locking: the engine is not internally thread-safe. The host serialises
 * every call into one struct bt_engine (the userspace host runs the engine on
 * one event-loop thread; the module holds the engine lock). Callbacks from the
 * engine to the host (struct bt_host_ops) happen inside those calls.
 */
#ifndef BT_OS_H
#define BT_OS_H

#ifdef __KERNEL__
/*
 * In the module (kernel/linux) the kernel's own types are used: its u64 is
 * unsigned long long where __UINT64_TYPE__ is unsigned long, and a file
 * that includes both linux/types.h and this header (os_linux.c) must see one
 * definition. So printf a u64 as %llu with an (unsigned long long) cast.
 */
#include <linux/types.h>
#include <linux/stddef.h>
typedef size_t bt_size_t;
#else
typedef __UINT8_TYPE__   u8;
typedef __UINT16_TYPE__  u16;
typedef __UINT32_TYPE__  u32;
typedef __UINT64_TYPE__  u64;
typedef __INT32_TYPE__   s32;
typedef __INT64_TYPE__   s64;
typedef __SIZE_TYPE__    bt_size_t;
#ifndef __cplusplus
#if !defined(__bool_true_false_are_defined)
typedef _Bool bool;
#define true 1
#define false 0
#endif
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif
#endif /* __KERNEL__ */

#define BT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define BT_MAX(a, b) ((a) > (b) ? (a) : (b))
#define BT_CONTAINER_OF(p, type, member) \
	((type *)((char *)(p) - __builtin_offsetof(type, member)))

/* Memory: plain heap allocation. bt_zalloc zero-fills. May return NULL. */
void *bt_alloc(bt_size_t n);
void *bt_zalloc(bt_size_t n);
void *bt_realloc(void *p, bt_size_t n);
void  bt_free(void *p);

#define bt_memcpy  __builtin_memcpy
#define bt_memmove __builtin_memmove
#define bt_memset  __builtin_memset
#define bt_memcmp  __builtin_memcmp
#define bt_strlen  __builtin_strlen
#define bt_strcmp  __builtin_strcmp
#define bt_strncmp __builtin_strncmp

/* Formatting, as C99 snprintf (supports %s %d %u %ld %lu %lld %llu %x %llx %c %%). */
int bt_snprintf(char *buf, bt_size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Monotonic milliseconds. */
u64 bt_now_ms(void);

/* Cryptographically reasonable random bytes (CHAP challenges, TSIH salt). */
void bt_random(void *buf, bt_size_t n);

/* Logging. level: 0 err, 1 warn, 2 info, 3 debug. Prefix added by the host. */
void bt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define bt_err(...)   bt_log(0, __VA_ARGS__)
#define bt_warn(...)  bt_log(1, __VA_ARGS__)
#define bt_info(...)  bt_log(2, __VA_ARGS__)
#define bt_debug(...) bt_log(3, __VA_ARGS__)

/* Byte order (the wire is big-endian). Unaligned-safe. */
static inline u16 bt_get_be16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static inline u32 bt_get_be24(const u8 *p) { return (u32)p[0] << 16 | (u32)p[1] << 8 | p[2]; }
static inline u32 bt_get_be32(const u8 *p)
{ return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }
static inline u64 bt_get_be64(const u8 *p)
{ return (u64)bt_get_be32(p) << 32 | bt_get_be32(p + 4); }
static inline void bt_put_be16(u8 *p, u16 v) { p[0] = v >> 8; p[1] = (u8)v; }
static inline void bt_put_be24(u8 *p, u32 v) { p[0] = (u8)(v >> 16); p[1] = (u8)(v >> 8); p[2] = (u8)v; }
static inline void bt_put_be32(u8 *p, u32 v)
{ p[0] = v >> 24; p[1] = (u8)(v >> 16); p[2] = (u8)(v >> 8); p[3] = (u8)v; }
static inline void bt_put_be64(u8 *p, u64 v) { bt_put_be32(p, (u32)(v >> 32)); bt_put_be32(p + 4, (u32)v); }
static inline u32 bt_get_le32(const u8 *p)
{ return (u32)p[3] << 24 | (u32)p[2] << 16 | (u32)p[1] << 8 | p[0]; }
static inline void bt_put_le32(u8 *p, u32 v)
{ p[0] = (u8)v; p[1] = (u8)(v >> 8); p[2] = (u8)(v >> 16); p[3] = (u8)(v >> 24); }
static inline u64 bt_get_le64(const u8 *p) { return (u64)bt_get_le32(p + 4) << 32 | bt_get_le32(p); }
static inline void bt_put_le64(u8 *p, u64 v) { bt_put_le32(p, (u32)v); bt_put_le32(p + 4, (u32)(v >> 32)); }

/* errno values the engine uses; identical on Linux user and kernel. */
#define BT_EPERM     1
#define BT_ENOENT    2
#define BT_EIO       5
#define BT_E2BIG     7
#define BT_EAGAIN   11
#define BT_ENOMEM   12
#define BT_EACCES   13
#define BT_EBUSY    16
#define BT_EEXIST   17
#define BT_ENODEV   19
#define BT_EINVAL   22
#define BT_ENOSPC   28
#define BT_ERANGE   34
#define BT_ENOTSUP  95
#define BT_EPROTO   71
#define BT_EMSGSIZE 90
#define BT_ECONNRESET 104
#define BT_ETIMEDOUT 110

#endif
