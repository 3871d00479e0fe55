// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - bollard_target.ko: module init and exit, the engine tick, and
 * the host callbacks table.
 *
 * Unload. Each connection's receive thread pins the module (net.c), so
 * rmmod with initiators connected fails with EBUSY; it never tears the
 * engine down under live sessions. Drop them first through management
 * (`bollard target disable` / target delete with force), or log the
 * initiators out. With no connection left, exit stops management, the
 * listeners and the tick, drains backing I/O and frees the engine.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/workqueue.h>
#include <linux/jiffies.h>
#include "bt_kmod.h"

static char *portals = "0.0.0.0:3260";
module_param(portals, charp, 0444);
MODULE_PARM_DESC(portals,
		 "Comma-separated ip:port / [ip6]:port to listen on from load time "
		 "(targets' own portals are added through management); \"\" for none");

static struct bt_kmod bt_km;

const struct bt_host_ops bt_kmod_ops = {
	.bdev_open = bt_bdev_open,
	.bdev_close = bt_bdev_close,
	.bdev_submit = bt_bdev_submit,
	.bdev_map_status = bt_bdev_map_status,
	.bdev_phys_block = bt_bdev_phys_block,
	.conn_send = bt_net_conn_send,
	.conn_close = bt_net_conn_close,
	.event = bt_genl_event,
};

#define BT_TICK_MS 250

static void bt_tick(struct work_struct *w)
{
	struct bt_kmod *km = container_of(to_delayed_work(w), struct bt_kmod, tick);

	mutex_lock(&km->lock);
	if (km->engine)
		bt_engine_tick(km->engine, bt_now_ms());
	mutex_unlock(&km->lock);
	if (!READ_ONCE(km->stopping))
		queue_delayed_work(km->wq, &km->tick, msecs_to_jiffies(BT_TICK_MS));
}

static int __init bt_init(void)
{
	struct bt_kmod *km = &bt_km;
	int err;

	mutex_init(&km->lock);
	INIT_DELAYED_WORK(&km->tick, bt_tick);
	km->wq = alloc_workqueue("bt_tx", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!km->wq)
		return -ENOMEM;
	km->io_wq = alloc_workqueue("bt_io", WQ_UNBOUND | WQ_MEM_RECLAIM, 64);
	if (!km->io_wq) {
		err = -ENOMEM;
		goto out_destroy_wq;
	}
	km->engine = bt_engine_new(&bt_kmod_ops, km);
	if (!km->engine) {
		err = -ENOMEM;
		goto out_destroy_io_wq;
	}
	err = bt_net_init(km, portals);
	if (err)
		goto out_free_engine;
	err = bt_genl_init(km);
	if (err)
		goto out_stop_listeners;
	queue_delayed_work(km->wq, &km->tick, msecs_to_jiffies(BT_TICK_MS));
	pr_info("bollard_target: loaded (%s)\n", BOLLARD_VERSION);
	return 0;

out_stop_listeners:
	bt_net_stop_listeners(km);
out_free_engine:
	bt_engine_free(km->engine);
	km->engine = NULL;
out_destroy_io_wq:
	destroy_workqueue(km->io_wq);
out_destroy_wq:
	destroy_workqueue(km->wq);
	return err;
}

static void __exit bt_exit(void)
{
	struct bt_kmod *km = &bt_km;

	bt_genl_exit(km);
	bt_net_stop_listeners(km);
	mutex_lock(&km->lock);
	km->stopping = true;
	mutex_unlock(&km->lock);
	/* No connection can be left (each pins the module); belt and braces. */
	bt_net_drop_all(km, true);
	cancel_delayed_work_sync(&km->tick);
	/* Backing I/O completes into the engine: finish it before freeing. */
	drain_workqueue(km->io_wq);
	mutex_lock(&km->lock);
	bt_engine_free(km->engine);
	km->engine = NULL;
	mutex_unlock(&km->lock);
	destroy_workqueue(km->io_wq);
	destroy_workqueue(km->wq);
	pr_info("bollard_target: unloaded\n");
}

module_init(bt_init);
module_exit(bt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("bollard iSCSI target engine");
MODULE_VERSION(BOLLARD_VERSION);
