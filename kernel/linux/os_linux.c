// SPDX-License-Identifier: GPL-2.0
/*
 * os_linux.c - bt_os.h for the kernel: allocation, formatting, time,
 * randomness and logging on kernel primitives.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/timekeeping.h>
#include <linux/printk.h>
#include "bt_os.h"

/*
 * bt_realloc needs the old size and kvrealloc() in 6.1 wants it from the
 * caller, so every block carries a header with its size just before the
 * payload. kvmalloc gives kmalloc memory for small blocks and vmalloc for
 * big ones (the engine's data buffers), freed alike by kvfree.
 *
 * Blocks of BT_BIG bytes and more get a BT_BIG_HDR-byte header instead of
 * 16 bytes, so their payload is 512-byte aligned: such allocations come
 * page-aligned from the page allocator or vmalloc, or size-aligned from the
 * power-of-two kmalloc caches, and bdev.c can then hand data buffers to
 * the block layer as bios (which need dma_alignment, 511 at most for the
 * devices we drive) instead of going through the page cache.
 */
#define BT_SMALL_HDR 16
#define BT_BIG       2048
#define BT_BIG_HDR   512

static size_t bt_hdr_len(size_t n)
{
	return n >= BT_BIG ? BT_BIG_HDR : BT_SMALL_HDR;
}

void *bt_alloc(bt_size_t n)
{
	size_t h = bt_hdr_len(n);
	u8 *base;

	if (n > (size_t)INT_MAX - BT_BIG_HDR)
		return NULL;
	base = kvmalloc(h + n, GFP_KERNEL);
	if (!base)
		return NULL;
	/* The size sits in the last word of the header, right before the
	 * payload, whatever the header's length. */
	*(size_t *)(base + h - sizeof(size_t)) = n;
	return base + h;
}

static size_t bt_blk_size(const void *p)
{
	return *(const size_t *)((const u8 *)p - sizeof(size_t));
}

void *bt_zalloc(bt_size_t n)
{
	void *p = bt_alloc(n);

	if (p)
		memset(p, 0, n);
	return p;
}

void bt_free(void *p)
{
	if (p)
		kvfree((u8 *)p - bt_hdr_len(bt_blk_size(p)));
}

void *bt_realloc(void *p, bt_size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return bt_alloc(n);
	old = bt_blk_size(p);
	/* Shrinking in place is fine only within the same header class. */
	if (n <= old && n >= old / 2 && bt_hdr_len(n) == bt_hdr_len(old))
		return p;
	q = bt_alloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, min(n, old));
	bt_free(p);
	return q;
}

int bt_snprintf(char *buf, bt_size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

u64 bt_now_ms(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

void bt_random(void *buf, bt_size_t n)
{
	get_random_bytes(buf, n);
}

void bt_log(int level, const char *fmt, ...)
{
	struct va_format vaf;
	va_list ap;
	size_t len = strlen(fmt);

	va_start(ap, fmt);
	vaf.fmt = fmt;
	vaf.va = &ap;
	/* The engine's messages may or may not end in a newline. */
	switch (level) {
	case 0:
		pr_err("bollard_target: %pV%s", &vaf, len && fmt[len - 1] == '\n' ? "" : "\n");
		break;
	case 1:
		pr_warn("bollard_target: %pV%s", &vaf, len && fmt[len - 1] == '\n' ? "" : "\n");
		break;
	case 2:
		pr_info("bollard_target: %pV%s", &vaf, len && fmt[len - 1] == '\n' ? "" : "\n");
		break;
	default:
		pr_debug("bollard_target: %pV%s", &vaf, len && fmt[len - 1] == '\n' ? "" : "\n");
		break;
	}
	va_end(ap);
}
