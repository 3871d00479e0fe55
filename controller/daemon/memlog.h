/*
 * memlog.h - one line about the process's memory, for BOLLARD_MEMLOG.
 *
 * bollardd's peak RSS at 10,000 LUNs is a benchmark figure (issue 6: < 30
 * MB), and heaptrack is not at hand here. What found where that peak came
 * from: a line at each phase of a round (listing, each work item, desired,
 * plan, apply, the trim after a drained queue) with
 *   rss / hwm      VmRSS and VmHWM from /proc/self/status, MB;
 *   arena / mmap   heap from brk and mmap'ed blocks (mallinfo2), MB;
 *   used / free    of it in use and free (free pages still count as RSS
 *                  until malloc_trim gives them back), MB.
 * With reset, VmHWM is reset after each line (writing 5 to
 * /proc/self/clear_refs), so each line's hwm is the peak of the phase that
 * ended there; that also resets what bench/controller.sh reads as the peak.
 */
#ifndef BL_MEMLOG_H
#define BL_MEMLOG_H

#include <stdbool.h>
#include <stddef.h>

/* "MEM <what> rss .. hwm .. | arena .. mmap .. used .. free .." into buf.
 * Returns 0, or -errno when /proc/self/status cannot be read. */
int bl_memlog_line(const char *what, bool reset, char *buf, size_t len);

#endif
