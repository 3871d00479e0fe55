/*
 * chap_digest.h - what the engine tells about a CHAP secret it holds: a
 * salted, slow digest, so the target reconciler can see that a secret
 * differs from the desired one (a Secret's password changed, or someone
 * set another by hand with `bollard target`) without the engine ever
 * giving the secret out.
 *
 * Form (a string in the dump, BT_A_CHAP_DIGEST / BT_A_MUTUAL_DIGEST):
 *   pbkdf2-sha256:ITER:SALT:DK
 * SALT 16 random bytes drawn when the secret is set (per credential: two
 * ACLs with one password show unrelated digests), DK the first 16 bytes of
 * PBKDF2-HMAC-SHA256(secret, SALT, ITER), both as lowercase hex.
 *
 * Why salted and slow. A dump is not secret the way the password is: it
 * is printed by `bollard target show`, pasted into bug reports, kept in
 * test recordings. Anyone holding one can still test guesses offline (any
 * digest that lets the reconciler verify a secret lets a guesser verify a
 * guess), so the aim is to make each guess cost: the random salt rules out
 * precomputed tables and makes each credential its own attack, and ITER
 * (BT_CHAP_DIGEST_ITER) HMAC rounds make a guess ~2,000 SHA-256 blocks
 * instead of one. For scale: an iSCSI login on the wire already shows
 * MD5(id || secret || challenge) to anyone who can sniff it, one MD5 per
 * guess; the dump is a thousand times dearer to attack than the network.
 * A random 12+ byte secret (what RFC 7143 asks for) is out of reach either
 * way. The cost on our side: the engine derives once per `acl add` / `auth
 * set`; the reconciler once per desired CHAP credential per reconcile
 * (about a millisecond each).
 *
 * Freestanding like the rest of kernel/core (no bt_* host calls here: the
 * reconciler library links this file too).
 */
#ifndef BT_CHAP_DIGEST_H
#define BT_CHAP_DIGEST_H

#include "bt_os.h"

#define BT_CHAP_DIGEST_ITER     1000
#define BT_CHAP_DIGEST_ITER_MAX 100000  /* checks refuse more: a dump
                                         * cannot make the reader spin  */
#define BT_CHAP_DIGEST_SALT     16
#define BT_CHAP_DIGEST_DK       16
#define BT_CHAP_DIGEST_MAX      96      /* the string with its NUL       */

/* The digest string of secret with this salt into out (at least
 * BT_CHAP_DIGEST_MAX bytes). Returns its length. */
int bt_chap_digest(const char *secret, const u8 salt[BT_CHAP_DIGEST_SALT],
		   char out[BT_CHAP_DIGEST_MAX]);

/* 1: digest is of secret; 0: of another secret; -BT_EINVAL: digest is
 * not a form this code knows (or asks for more than ITER_MAX rounds). */
int bt_chap_digest_check(const char *secret, const char *digest);

#endif
