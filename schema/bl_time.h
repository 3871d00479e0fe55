/*
 * bl_time.h - bollard's one clock for deadlines, timeouts and periods
 * (userspace: controller, CLI, etcd client, reconcilers' tools).
 *
 * bl_now_ms() is CLOCK_MONOTONIC in whole milliseconds (truncated, not
 * rounded): it never goes back when the wall clock is set (NTP, an
 * operator), which a deadline or a lease must not see. It does not run
 * while the machine is suspended (CLOCK_BOOTTIME would); nothing here
 * times across a suspend. It cannot fail: clock_gettime() fails only for an
 * unknown clock or a bad pointer, neither of which can happen here, so it
 * returns the time, not an error code.
 *
 * Code that wants testing against a made-up clock takes now_ms as an
 * argument instead (bl_leader_tick(), bl_wq_*(), drbd_watch.h's dw_step())
 * and only its caller reads this clock.
 *
 * It needs libc only. It lives in libbl_schema.a beside bl_err.c, and in
 * libbl_etcd.a and libbl_etcd_http.a, whose deadlines run on it
 * (controller/etcd/etcd.mk); bollard-cib links the object itself.
 */
#ifndef BL_TIME_H
#define BL_TIME_H

#include <stdint.h>

/*
 * CLOCK_MONOTONIC's own time in milliseconds, from its own origin (not
 * from the first call): callers turn it back into an absolute timespec for
 * waits on that clock (a timerfd with TFD_TIMER_ABSTIME, a condition
 * variable set up with pthread_condattr_setclock(CLOCK_MONOTONIC)), so it
 * must stay exactly that clock.
 */
uint64_t bl_now_ms(void);

#endif
