#include <string.h>
#include "bl_err.h"
#include "bt_err.h"

const char *bl_strerror(int rc)
{
	switch (rc) {
	case 0:                return "success";
	case BL_E_PARSE:       return "parse error";
	case BL_E_INVALID:     return "invalid object";
	case BL_E_CONFLICT:    return "conflict: object was modified concurrently";
	case BL_E_ETCD:        return "etcd error";
	case BL_E_UNAVAILABLE: return "etcd unavailable";
	case BL_E_COMPACTED:   return "revision compacted";
	case BL_E_REF:         return "dangling reference";
	case BL_E_IN_USE:      return "in use";
	case BL_E_PROTO:       return "protocol error";
	case BL_E_CANCELED:    return "canceled";
	case BL_E_AUTH:        return "authentication failed";
	default: break;
	}
	if (rc <= BT_E_BASE && rc > BT_E_LAST)
		return bt_strerror(rc);
	if (rc < 0 && rc > -1000)
		return strerror(-rc);
	return "unknown error";
}
