/*
 * test_cib_ipc.c - the CIB manager messages bollard-cib sends and the
 * answers it reads (reconcilers/cib_ipc.h). The answers below are the
 * shapes pacemaker-based 2.1.5 writes (based_callbacks.c: the registration
 * ack is named after the function that builds it; a call's reply is
 * <cib-reply> with the output in <cib_calldata>). tests/integration/
 * pacemaker_live.sh runs the tool against a real CIB manager.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bl_err.h"
#include "cib_ipc.h"

static void register_msg(void **state)
{
	char *m;

	assert_int_equal(bl_cib_register_msg("bollard-cib", &m), 0);
	assert_string_equal(m, "<cib_command t=\"cib\" cib_op=\"register\" "
			    "cib_clientname=\"bollard-cib\" cib_callopt=\"4096\"/>");
	free(m);
	assert_int_equal(bl_cib_register_msg("a\"b", &m), -EINVAL);
	assert_null(m);
	assert_int_equal(bl_cib_register_msg("", &m), -EINVAL);
}

static void op_msgs(void **state)
{
	char *m;

	assert_int_equal(bl_cib_op_msg("cib_query", NULL, 1, "tok-1",
				       BL_CIB_SYNC_CALL | BL_CIB_SCOPE_LOCAL, NULL, &m), 0);
	assert_string_equal(m, "<cib_command __name__=\"cib_command\" t=\"cib\" "
			    "cib_async_id=\"tok-1\" cib_op=\"cib_query\" cib_callid=\"1\" "
			    "cib_callopt=\"4352\"/>");
	free(m);
	assert_int_equal(bl_cib_op_msg("cib_create", "constraints", 7, "t", BL_CIB_SYNC_CALL,
				       "<rsc_location id=\"x\"/>", &m), 0);
	assert_string_equal(m, "<cib_command __name__=\"cib_command\" t=\"cib\" "
			    "cib_async_id=\"t\" cib_op=\"cib_create\" cib_section=\"constraints\" "
			    "cib_callid=\"7\" cib_callopt=\"4096\"><cib_calldata>"
			    "<rsc_location id=\"x\"/></cib_calldata></cib_command>");
	free(m);
	/* what cannot make a message */
	assert_int_equal(bl_cib_op_msg("cib_create", "constraints", 1, "t", 0, "x", &m), -EINVAL);
	assert_null(m);
	assert_int_equal(bl_cib_op_msg("cib_query", "a<b", 1, "t", 0, NULL, &m), -EINVAL);
	assert_int_equal(bl_cib_op_msg("cib_query", NULL, 0, "t", 0, NULL, &m), -EINVAL);
	assert_int_equal(bl_cib_op_msg("cib_query", NULL, 1, NULL, 0, NULL, &m), -EINVAL);
}

static int parse(const char *text, struct bl_cib_reply *r, char **copy)
{
	*copy = strdup(text);
	return bl_cib_reply_parse(*copy, strlen(text), r);
}

static void register_answer(void **state)
{
	struct bl_cib_reply r;
	char *x;

	assert_int_equal(parse("<cib_common_callback_worker cib_op=\"register\" "
			       "cib_clientid=\"0b7e&quot;a&amp;b\"/>", &r, &x), 0);
	assert_string_equal(r.op, "register");
	assert_string_equal(r.clientid, "0b7e\"a&b");
	assert_false(r.have_rc);
	assert_null(r.data);
	free(x);
}

static void query_answer(void **state)
{
	struct bl_cib_reply r;
	char *x;
	const char *cib = "<cib epoch=\"12\"><configuration><nodes><node id=\"1\" uname=\"a&lt;\"/>"
			  "</nodes></configuration><status/></cib>";
	char text[512];

	snprintf(text, sizeof(text), "<cib-reply t=\"cib\" cib_op=\"cib_query\" cib_callid=\"1\" "
		 "cib_clientid=\"c\" cib_callopt=\"4352\" cib_rc=\"0\"><cib_calldata>%s"
		 "</cib_calldata></cib-reply>", cib);
	assert_int_equal(parse(text, &r, &x), 0);
	assert_string_equal(r.op, "cib_query");
	assert_true(r.have_callid);
	assert_int_equal(r.callid, 1);
	assert_true(r.have_rc);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.data_len, strlen(cib));
	assert_memory_equal(r.data, cib, strlen(cib));
	free(x);
}

static void refused_answer(void **state)
{
	struct bl_cib_reply r;
	char *x;

	assert_int_equal(parse("<cib-reply t=\"cib\" cib_op=\"cib_create\" cib_callid=\"1\" "
			       "cib_rc=\"-76\"/>", &r, &x), 0);
	assert_int_equal(r.rc, -76);
	assert_null(r.data);
	assert_string_equal(bl_cib_rc_str(r.rc), "Name not unique on network");
	assert_string_equal(bl_cib_rc_str(-203), "update does not conform to the configured schema");
	assert_string_equal(bl_cib_rc_str(-217), "unknown output format");
	assert_string_equal(bl_cib_rc_str(-218), "unknown CIB error");
	assert_string_equal(bl_cib_rc_str(0), "OK");
	free(x);
}

static void bad_answers(void **state)
{
	static const char *const bad[] = {
		"",
		"not xml",
		"<cib-reply cib_rc=\"0\"",                       /* tag not closed   */
		"<cib-reply cib_rc=0/>",                          /* unquoted         */
		"<cib-reply cib_rc=\"zero\"/>",                   /* not a number     */
		"<cib-reply cib_callid=\"1x\"/>",
		"<cib-reply cib_op=\"a&bogus;\"/>",               /* unknown entity   */
		"<cib-reply cib_rc=\"0\"><cib_calldata><cib/>",   /* calldata open    */
	};
	struct bl_cib_reply r;
	char *x;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &r, &x), BL_E_PROTO);
		free(x);
	}
	/* a length that does not match the string (a NUL inside) */
	x = strdup("<a b=\"1\"/>");
	assert_int_equal(bl_cib_reply_parse(x, 20, &r), BL_E_PROTO);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(register_msg),
		cmocka_unit_test(op_msgs),
		cmocka_unit_test(register_answer),
		cmocka_unit_test(query_answer),
		cmocka_unit_test(refused_answer),
		cmocka_unit_test(bad_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
