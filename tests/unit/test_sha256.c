/*
 * test_sha256 - kernel/core/sha256.c against the example vectors published
 * with FIPS 180-2 (appendix B: "abc", the 448-bit and 896-bit messages, one
 * million 'a'), the empty message, and the same digests fed in odd-sized
 * pieces (block boundaries crossed at every offset).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a),
	};
	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
