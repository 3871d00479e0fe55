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
 * caller, so every block carries a small header with its size. kvmalloc
 * gives kmalloc memory for small blocks and vmalloc for big ones (the
 * engine's 256 KiB+ data buffers), freed alike by kvfree.
 */
struct bt_blk {
	size_t size;
	size_t pad;                   /* keep the payload 16-byte aligned     */
};

void *bt_alloc(bt_size_t n)
{
	struct bt_blk *b;

	if (n > (size_t)INT_MAX - sizeof(*b))
		return NULL;
	b = kvmalloc(sizeof(*b) + n, GFP_KERNEL);
	if (!b)
		return NULL;
	b->size = n;
	return b + 1;
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
		kvfree((struct bt_blk *)p - 1);
}

void *bt_realloc(void *p, bt_size_t n)
{
	struct bt_blk *old;
	void *q;

	if (!p)
		return bt_alloc(n);
	old = (struct bt_blk *)p - 1;
	if (n <= old->size && n >= old->size / 2)
		return p;
	q = bt_alloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, min(n, old->size));
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
