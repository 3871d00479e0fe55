/*
 * test_sha256 - kernel/core/sha256.c against the example vectors published
 * with FIPS 180-2 (appendix B: "abc", the 448-bit and 896-bit messages, one
 * million 'a'), the empty message, and the same digests fed in odd-sized
 * pieces (block boundaries crossed at every offset); PBKDF2-HMAC-SHA256
 * against RFC 7914 section 11; the CHAP digest form (chap_digest.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "chap_digest.h"
#include "sha256.h"

static void hex(const u8 *d, char out[2 * BT_SHA256_LEN + 1])
{
	for (int i = 0; i < BT_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Digest of msg fed in pieces of `piece` bytes (0: all at once). */
static void digest(const char *msg, size_t len, size_t piece,
		   char out[2 * BT_SHA256_LEN + 1])
{
	struct bt_sha256 c;
	u8 d[BT_SHA256_LEN];
	size_t off = 0;

	bt_sha256_init(&c);
	if (!piece)
		bt_sha256_update(&c, msg, len);
	while (piece && off < len) {
		size_t n = len - off < piece ? len - off : piece;
		bt_sha256_update(&c, msg + off, n);
		off += n;
	}
	bt_sha256_final(&c, d);
	hex(d, out);
}

static const struct {
	const char *msg, *want;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
	  "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

static void test_vectors(void **state)
{
	char got[2 * BT_SHA256_LEN + 1];
	size_t i, piece;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		for (piece = 0; piece <= 65; piece++) {
			digest(vectors[i].msg, strlen(vectors[i].msg), piece, got);
			assert_string_equal(got, vectors[i].want);
		}
}

static void test_million_a(void **state)
{
	static char a[1000000];
	char got[2 * BT_SHA256_LEN + 1];

	(void)state;
	memset(a, 'a', sizeof(a));
	digest(a, sizeof(a), 0, got);
	assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	digest(a, sizeof(a), 4093, got);
	assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void hexn(const u8 *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_pbkdf2(void **state)
{
	u8 dk[64];
	char got[129];
	char key[101];

	(void)state;
	bt_pbkdf2_sha256("passwd", 6, "salt", 4, 1, dk, 64);
	hexn(dk, 64, got);
	assert_string_equal(got, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
			    "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
	bt_pbkdf2_sha256("Password", 8, "NaCl", 4, 80000, dk, 64);
	hexn(dk, 64, got);
	assert_string_equal(got, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
			    "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
	/* a key longer than a block is hashed first; output not a multiple of 32 */
	memset(key, 'k', 100);
	bt_pbkdf2_sha256(key, 100, "salty", 5, 3, dk, 40);
	hexn(dk, 40, got);
	assert_string_equal(got, "b19038ad0d7f4434c34ee825b79279e57a30b3c38ca66f6c1e6c93630a22ed7d"
			    "77ba835b4d90b357");
}

/* The form, cross-checked with Python's hashlib.pbkdf2_hmac; check accepts
 * the secret, refuses another, and rejects malformed or too costly forms. */
static void test_chap_digest(void **state)
{
	u8 salt[BT_CHAP_DIGEST_SALT];
	char d[BT_CHAP_DIGEST_MAX];
	int n;

	(void)state;
	for (int i = 0; i < BT_CHAP_DIGEST_SALT; i++)
		salt[i] = (u8)i;
	n = bt_chap_digest("s3cret-never-printed", salt, d);
	assert_int_equal(n, (int)strlen(d));
	assert_true(n < BT_CHAP_DIGEST_MAX);
	assert_string_equal(d, "pbkdf2-sha256:1000:000102030405060708090a0b0c0d0e0f:"
			    "537d7f1ebec6166eb50570d37e1a29ba");
	assert_int_equal(bt_chap_digest_check("s3cret-never-printed", d), 1);
	assert_int_equal(bt_chap_digest_check("s3cret-never-printeD", d), 0);
	assert_int_equal(bt_chap_digest_check("", d), 0);
	assert_int_equal(bt_chap_digest_check("x", "pbkdf2-sha256:1000:00:00"), -BT_EINVAL);
	assert_int_equal(bt_chap_digest_check("x", "sha1:1:000102030405060708090a0b0c0d0e0f:"
					      "537d7f1ebec6166eb50570d37e1a29ba"), -BT_EINVAL);
	assert_int_equal(bt_chap_digest_check("x", "pbkdf2-sha256:9999999:000102030405060708090a"
					      "0b0c0d0e0f:537d7f1ebec6166eb50570d37e1a29ba"), -BT_EINVAL);
	assert_int_equal(bt_chap_digest_check("x", "pbkdf2-sha256:0:000102030405060708090a"
					      "0b0c0d0e0f:537d7f1ebec6166eb50570d37e1a29ba"), -BT_EINVAL);
	strcat(d, "0");
	assert_int_equal(bt_chap_digest_check("s3cret-never-printed", d), -BT_EINVAL);
	assert_int_equal(bt_chap_digest_check("x", NULL), -BT_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_pbkdf2),
		cmocka_unit_test(test_chap_digest),
	};
	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
