/*
 * bt_err.h - engine error codes. Same convention as bl_err.h: 0, -errno
 * (BT_E* errno values from bt_os.h), or an engine code from -1100 down.
 * These are the typed outcomes an idempotent applier needs (compare tgt's
 * TGTADM_TARGET_EXIST / TGTADM_NO_TARGET): the management API returns them
 * as-is and `bollard target` prints bt_strerror().
 */
#ifndef BT_ERR_H
#define BT_ERR_H

enum bt_err {
	BT_E_BASE        = -1100,
	BT_E_EXISTS      = -1101, /* object already exists                    */
	BT_E_NOT_FOUND   = -1102, /* no such target / LUN / ACL / portal      */
	BT_E_IN_USE      = -1103, /* LUN has sessions / target enabled ...    */
	BT_E_ENABLED     = -1104, /* change needs the target disabled         */
	BT_E_BAD_ATTR    = -1105, /* unknown or malformed attribute           */
	BT_E_BAD_NAME    = -1106, /* malformed IQN / EUI / NAA name           */
	BT_E_BACKEND     = -1107, /* backing file/device could not be opened  */
	BT_E_LIMIT       = -1108, /* a configured cap was reached             */
	BT_E_PR_FOREIGN  = -1109, /* the LUN's reserved PR region (the last
	                           * MiB of the backing) holds neither a PR
	                           * store nor zeros: refused, not overwritten */
	BT_E_LAST        = -1110,
};

/* Text for BT_E_* codes and the errno values the engine uses. Never NULL.
 * static inline so both the engine and userspace tools get it without a
 * link dependency. */
static inline const char *bt_strerror(int rc)
{
	switch (rc) {
	case 0:               return "success";
	case BT_E_EXISTS:     return "already exists";
	case BT_E_NOT_FOUND:  return "not found";
	case BT_E_IN_USE:     return "in use";
	case BT_E_ENABLED:    return "target is enabled";
	case BT_E_BAD_ATTR:   return "bad attribute";
	case BT_E_BAD_NAME:   return "bad iSCSI name";
	case BT_E_BACKEND:    return "backing store could not be opened";
	case BT_E_LIMIT:      return "limit reached";
	case BT_E_PR_FOREIGN: return "PR store region at the end of the backing holds foreign data (not zeros, not a PR store)";
	case -1:  return "operation not permitted";
	case -2:  return "no such file or directory";
	case -5:  return "I/O error";
	case -12: return "out of memory";
	case -13: return "permission denied";
	case -16: return "busy";
	case -17: return "exists";
	case -22: return "invalid argument";
	case -28: return "no space left";
	case -95: return "not supported";
	case -71: return "protocol error";
	case -110: return "timed out";
	default:  return "engine error";
	}
}

#endif
