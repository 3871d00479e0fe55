/*
 * memlog.c - see memlog.h.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>

#include "daemon/memlog.h"

int bl_memlog_line(const char *what, bool reset, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/status", "r");
	long rss = 0, hwm = 0;
	struct mallinfo2 mi;
	char line[256];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &rss);
		sscanf(line, "VmHWM: %ld", &hwm);
	}
	fclose(f);
	mi = mallinfo2();
	snprintf(buf, len, "MEM %-24s rss %5.1f hwm %5.1f | arena %5.1f mmap %5.1f "
		 "used %5.1f free %5.1f", what, rss / 1024.0, hwm / 1024.0,
		 mi.arena / 1048576.0, mi.hblkhd / 1048576.0, mi.uordblks / 1048576.0,
		 mi.fordblks / 1048576.0);
	if (reset && (f = fopen("/proc/self/clear_refs", "w"))) {
		fputs("5", f);
		fclose(f);
	}
	return 0;
}
