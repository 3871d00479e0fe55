/*
 * bl_err.h - bollard's one error convention (userspace: schema, controller,
 * CLI, reconcilers).
 *
 * Every function that can fail returns 0 on success or a negative value:
 *   -errno            a system error (-ENOENT, -ENOMEM, -ETIMEDOUT ...)
 *   below -1000       a bollard code from the enum below
 * bl_strerror() turns either kind into text. The longer, specific message
 * ("spec.luns[1].volume: no Volume named 'x'") lives in the context object of
 * the API that failed (a diag list, an etcd handle ...), never in a global.
 *
 * The engine (kernel/core) follows the same rule with its own range, -1100
 * and below, see bt_err.h; bl_strerror() knows those too.
 */
#ifndef BL_ERR_H
#define BL_ERR_H

enum bl_err {
	BL_E_BASE        = -1000,
	BL_E_PARSE       = -1001, /* malformed YAML/JSON                       */
	BL_E_INVALID     = -1002, /* well-formed but fails validation          */
	BL_E_CONFLICT    = -1003, /* compare-and-swap lost: object changed     */
	BL_E_ETCD        = -1004, /* etcd answered with an error status        */
	BL_E_UNAVAILABLE = -1005, /* no etcd endpoint reachable                */
	BL_E_COMPACTED   = -1006, /* watch/range revision was compacted        */
	BL_E_REF         = -1007, /* dangling cross-reference between objects  */
	BL_E_IN_USE      = -1008, /* object still referenced / in use          */
	BL_E_PROTO       = -1009, /* peer spoke something we do not understand */
	BL_E_CANCELED    = -1010, /* operation or watch was cancelled          */
	BL_E_AUTH        = -1011, /* authentication or permission refused      */
	BL_E_LAST        = -1012,
};

/* Text for 0, -errno, a BL_E_* or a BT_E_* code. Never NULL. */
const char *bl_strerror(int rc);

#endif
