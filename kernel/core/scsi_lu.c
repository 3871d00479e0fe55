/*
 * scsi_lu.c - logical units: creation from a struct bt_lun_cfg, identity,
 * lifetime (reference counted), LBA range checks and range locks.
 *
 * Identity
 * --------
 * Every node of an HA pair must present the same LU, so everything an
 * initiator uses to recognise a LU is a pure function of the uid string
 * (the Volume's uid from etcd, or the engine's fallback "target IQN + LUN"):
 *
 *   h = 128-bit hash of uid (two FNV-1a 64 lanes with different offset
 *       bases, each passed through the splitmix64 finaliser; no randomness)
 *
 *   NAA designator (VPD 83h): NAA 6, IEEE Registered Extended format. The
 *       24-bit company-id field holds 02:B0:11, a value in the IEEE "SLAP"
 *       Administratively Assigned quadrant (second-lowest bit of the first
 *       octet set, lowest three-bit pattern 010b). IEEE never assigns
 *       identifiers in that quadrant to a vendor, so the designator cannot
 *       collide with or impersonate any vendor's registered OUI/CID; "B011"
 *       reads as "bollard". The 36-bit vendor specific identifier and the
 *       64-bit extension are the first 100 bits of h.
 *   unit serial (VPD 80h): 24 upper-case hex digits of h[4..15].
 *   product id (standard INQUIRY): 8 upper-case hex digits of h[0..3]
 *       followed by " VOLUME", so its first 8 bytes differ per LU (ESXi
 *       keys on those).
 */
#include "scsi_int.h"

#define NAA_COMPANY_ID 0x02B011u

static u64 mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void scsi_hash_uid(const char *uid, u8 out[16])
{
	u64 a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
	const u8 *p;

	for (p = (const u8 *)uid; *p; p++) {
		a = (a ^ *p) * 0x100000001b3ULL;
		b = (b ^ *p) * 0x100000001b3ULL;
	}
	/* fold the length in so "a" and "a\0..." style prefixes differ */
	a = mix64(a ^ (u64)(p - (const u8 *)uid));
	b = mix64(b + a);
	bt_put_be64(out, a);
	bt_put_be64(out + 8, b);
}

static void hex_upper(char *dst, const u8 *src, unsigned n)
{
	static const char digits[] = "0123456789ABCDEF";
	unsigned i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 0xf];
	}
	dst[2 * n] = '\0';
}

static void lu_derive_identity(struct bt_lu *lu)
{
	u8 h[16];
	u8 *d = lu->naa;
	unsigned i;

	scsi_hash_uid(lu->uid, h);
	/*
	 * NAA 6 (4 bits) | company id (24) | vendor specific id (36) |
	 * vendor specific id extension (64)
	 */
	d[0] = 0x60 | ((NAA_COMPANY_ID >> 20) & 0x0f);
	d[1] = (u8)(NAA_COMPANY_ID >> 12);
	d[2] = (u8)(NAA_COMPANY_ID >> 4);
	d[3] = (u8)((NAA_COMPANY_ID & 0x0f) << 4) | (h[0] >> 4);
	/* remaining 96 bits: the rest of h shifted by one nibble */
	for (i = 4; i < 16; i++)
		d[i] = (u8)(h[i - 4] << 4) | (h[i - 3] >> 4);
	hex_upper(lu->naa_hex, lu->naa, 16);
	hex_upper(lu->serial, h + 4, 12);
	hex_upper(lu->product, h, 4);
	bt_memcpy(lu->product + 8, " VOLUME ", 8);
	lu->product[16] = '\0';
}

static char *dup_str(const char *s)
{
	bt_size_t n = bt_strlen(s) + 1;
	char *d = bt_alloc(n);

	if (d)
		bt_memcpy(d, s, n);
	return d;
}

static void lu_set_capacity(struct bt_lu *lu)
{
	u64 usable = lu->dev_bytes > lu->reserved_tail_bytes ?
		lu->dev_bytes - lu->reserved_tail_bytes : 0;

	lu->nblocks = usable >> lu->bs_shift;
}

int bt_lu_create(struct bt_engine *e, const struct bt_lun_cfg *cfg,
		 const char *fallback_uid, struct bt_lu **out)
{
	const struct bt_host_ops *ops = bt_engine_ops(e);
	struct bt_lu *lu;
	const char *uid;
	u32 bs = cfg->block_size ? cfg->block_size : 512;
	int rc;

	*out = NULL;
	if (!cfg->path || !*cfg->path)
		return BT_E_BAD_ATTR;
	/* power of two, 512 .. 64k */
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		return BT_E_BAD_ATTR;
	uid = cfg->uid && *cfg->uid ? cfg->uid : fallback_uid;
	if (!uid || !*uid || bt_strlen(uid) > SCSI_UID_MAX)
		return BT_E_BAD_ATTR;

	lu = bt_zalloc(sizeof(*lu));
	if (!lu)
		return -BT_ENOMEM;
	lu->e = e;
	lu->block_size = bs;
	while ((1u << lu->bs_shift) < bs)
		lu->bs_shift++;
	lu->readonly = cfg->readonly;
	lu->features = cfg->features ? cfg->features : BT_FEAT_DEFAULT;
	lu->refs = 1;
	lu->path = dup_str(cfg->path);
	lu->uid = dup_str(uid);
	if (!lu->path || !lu->uid) {
		rc = -BT_ENOMEM;
		goto out_free_lu;
	}
	rc = ops->bdev_open(bt_engine_host(e), lu->path,
			    lu->readonly ? BT_BDEV_RO : 0, &lu->bdev,
			    &lu->dev_bytes);
	if (rc < 0) {
		bt_warn("scsi: cannot open backing %s: %d", lu->path, rc);
		rc = BT_E_BACKEND;
		goto out_free_lu;
	}
	lu_set_capacity(lu);
	lu_derive_identity(lu);
	/*
	 * With BT_FEAT_PR_STORE the tail becomes the PR store and its load
	 * starts here, so a failover node that attaches on enable sees the
	 * state. A refusal (foreign data in the tail ...) closes the backing
	 * again: the LUN does not attach.
	 */
	rc = scsi_prs_attach(lu);
	if (rc < 0) {
		bt_warn("scsi: %s: %s", lu->path, bt_strerror(rc));
		scsi_lu_put(lu);
		return rc;
	}
	*out = lu;
	return 0;

out_free_lu:
	bt_free(lu->path);
	bt_free(lu->uid);
	bt_free(lu);
	return rc;
}

void scsi_lu_get(struct bt_lu *lu)
{
	lu->refs++;
}

void scsi_lu_put(struct bt_lu *lu)
{
	if (--lu->refs)
		return;
	scsi_pr_free(lu);
	scsi_prs_free(lu);
	bt_free(lu->xcopy_results);
	bt_engine_ops(lu->e)->bdev_close(bt_engine_host(lu->e), lu->bdev);
	bt_free(lu->path);
	bt_free(lu->uid);
	bt_free(lu);
}

/*
 * Tasks in flight keep their own references: the backing device stays open
 * and the struct valid until the last of them completes.
 */
void bt_lu_destroy(struct bt_lu *lu)
{
	if (!lu)
		return;
	lu->dying = true;
	scsi_lu_put(lu);
}

u64 bt_lu_blocks(const struct bt_lu *lu) { return lu->nblocks; }
u32 bt_lu_block_size(const struct bt_lu *lu) { return lu->block_size; }
const char *bt_lu_path(const struct bt_lu *lu) { return lu->path; }
const char *bt_lu_uid(const struct bt_lu *lu) { return lu->uid; }
const char *bt_lu_naa_hex(const struct bt_lu *lu) { return lu->naa_hex; }
const char *bt_lu_serial(const struct bt_lu *lu) { return lu->serial; }
const char *bt_lu_product(const struct bt_lu *lu) { return lu->product; }

int bt_lu_set_reserved_tail(struct bt_lu *lu, u64 bytes)
{
	if (bytes >= lu->dev_bytes)
		return -BT_EINVAL;
	lu->reserved_tail_bytes = bytes;
	lu_set_capacity(lu);
	return 0;
}

int scsi_check_range(struct scsi_task *t, u64 lba, u64 n)
{
	u64 cap = t->lu->nblocks;

	t->lba = lba;
	t->nblocks = (u32)n;
	/* an LBA past the end is an error even for a zero-length transfer */
	if (lba >= cap || n > cap - lba) {
		if (lba < cap && n == 0)
			return -1;
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	}
	return -1;
}

/* ---- range locks ---------------------------------------------------------
 * COMPARE AND WRITE must read, compare and write with no other write to the
 * range in between. The engine is single threaded, but the I/O it submits
 * completes later, so "in between" is real: a WRITE submitted while the CAW
 * read is outstanding could land before the CAW's write. Every medium write
 * therefore takes a SHARED lock on its range and a CAW an EXCLUSIVE one;
 * exclusive conflicts with any overlap. Waiters are served in arrival order
 * and a newcomer never overtakes an overlapping waiter, so a stream of
 * writes cannot starve a CAW.
 */
static bool overlap(const struct scsi_task *a, const struct scsi_task *b)
{
	u64 ae = a->lba + (a->nblocks ? a->nblocks : 1);
	u64 be = b->lba + (b->nblocks ? b->nblocks : 1);

	return a->lba < be && b->lba < ae;
}

static bool conflicts(const struct scsi_task *a, u8 amode,
		      const struct scsi_task *b, u8 bmode)
{
	if (amode != LOCK_EXCL && bmode != LOCK_EXCL)
		return false;
	return overlap(a, b);
}

static bool blocked(struct bt_lu *lu, struct scsi_task *t, u8 mode,
		    struct scsi_task *stop_waiter)
{
	struct scsi_task *o;

	for (o = lu->tasks; o; o = o->lu_next)
		if (o != t && o->lock_held && conflicts(t, mode, o, o->lock_mode))
			return true;
	for (o = lu->wait_head; o && o != stop_waiter; o = o->wait_next)
		if (o != t && conflicts(t, mode, o, o->lock_mode))
			return true;
	return false;
}

bool scsi_lock_acquire(struct scsi_task *t, u8 mode)
{
	struct bt_lu *lu = t->lu;

	t->lock_mode = mode;
	if (!blocked(lu, t, mode, NULL)) {
		t->lock_held = true;
		return true;
	}
	t->queued = true;
	t->wait_next = NULL;
	if (lu->wait_tail)
		lu->wait_tail->wait_next = t;
	else
		lu->wait_head = t;
	lu->wait_tail = t;
	return false;
}

static void wait_unlink(struct bt_lu *lu, struct scsi_task *t)
{
	struct scsi_task **pp, *prev = NULL;

	for (pp = &lu->wait_head; *pp; prev = *pp, pp = &(*pp)->wait_next) {
		if (*pp != t)
			continue;
		*pp = t->wait_next;
		if (lu->wait_tail == t)
			lu->wait_tail = prev;
		break;
	}
	t->queued = false;
	t->wait_next = NULL;
}

void scsi_lock_release(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	struct scsi_task *o, *nxt, *granted = NULL, **gtail = &granted;

	if (t->queued)
		wait_unlink(lu, t);
	if (!t->lock_held)
		return;
	t->lock_held = false;
	/* grant, in order, every waiter no longer blocked */
	for (o = lu->wait_head; o; o = nxt) {
		nxt = o->wait_next;
		if (blocked(lu, o, o->lock_mode, o))
			continue;
		wait_unlink(lu, o);
		o->lock_held = true;
		*gtail = o;
		gtail = &o->wait_next;
	}
	/* resume outside the scan: a resumed task may finish inline */
	for (o = granted; o; o = nxt) {
		nxt = o->wait_next;
		o->wait_next = NULL;
		o->next(o);
	}
}
