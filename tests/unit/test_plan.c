/*
 * test_plan.c - the plan data structure and the executors (plan.h, exec.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "bl_err.h"
#include "exec.h"
#include "plan.h"

static char *print_plan(struct bl_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(bl_plan_print(p, f), 0);
	fclose(f);
	return buf;
}

/* Removals first in reverse stage order, then creations in stage order;
 * insertion order within a stage; deps renumbered to ids. */
static void test_sort_order(void **state)
{
	struct bl_plan p;
	int a, b, c, d, e;

	(void)state;
	assert_int_equal(bl_plan_init(&p, "t", "n1"), 0);
	a = bl_plan_add(&p, BL_STAGE_ACTIVATE, false, "k", "a", "adjust", "A");
	b = bl_plan_add(&p, BL_STAGE_PREREQ, false, "k", "b", "create", "B");
	c = bl_plan_add(&p, BL_STAGE_PREREQ, true, "k", "c", "delete", "C");
	d = bl_plan_add(&p, BL_STAGE_ACTIVATE, true, "k", "d", "down", "D");
	e = bl_plan_add(&p, BL_STAGE_CONFIG, false, "k", "e", "write", "E");
	assert_true(a > 0 && b > 0 && c > 0 && d > 0 && e > 0);
	assert_int_equal(bl_plan_dep(&p, a, b), 0);
	assert_int_equal(bl_plan_dep(&p, a, e), 0);
	assert_int_equal(bl_plan_dep(&p, c, d), 0);
	assert_int_equal(bl_plan_sort(&p), 0);
	assert_string_equal(p.v[0].object, "d");
	assert_string_equal(p.v[1].object, "c");
	assert_string_equal(p.v[2].object, "b");
	assert_string_equal(p.v[3].object, "e");
	assert_string_equal(p.v[4].object, "a");
	assert_int_equal(p.v[4].ndeps, 2);
	assert_int_equal(p.v[4].deps[0], 3);
	assert_int_equal(p.v[4].deps[1], 4);
	assert_int_equal(p.v[1].deps[0], 1);
	/* sorting again changes nothing; adding after sort is refused */
	assert_int_equal(bl_plan_sort(&p), 0);
	assert_string_equal(p.v[0].object, "d");
	assert_int_equal(bl_plan_add(&p, BL_STAGE_INIT, false, "k", "x", "v", "x"),
			 -EINVAL);
	bl_plan_free(&p);
}

/* A dependency that would run after its dependent is a bug the sort
 * reports. */
static void test_sort_rejects_backward_dep(void **state)
{
	struct bl_plan p;
	int a, b;

	(void)state;
	assert_int_equal(bl_plan_init(&p, "t", NULL), 0);
	a = bl_plan_add(&p, BL_STAGE_PREREQ, false, "k", "a", "v", "A");
	b = bl_plan_add(&p, BL_STAGE_ACTIVATE, false, "k", "b", "v", "B");
	assert_int_equal(bl_plan_dep(&p, a, b), 0);
	assert_int_equal(bl_plan_dep(&p, a, a), -EINVAL);
	assert_int_equal(bl_plan_dep(&p, a, 99), -EINVAL);
	assert_int_equal(bl_plan_sort(&p), -EINVAL);
	bl_plan_free(&p);
}

static void test_print_text(void **state)
{
	struct bl_plan p;
	char *out;
	int h, w;

	(void)state;
	assert_int_equal(bl_plan_init(&p, "drbd", "nodea"), 0);
	w = bl_plan_add(&p, BL_STAGE_VALIDATE, false, "f", "r0", "stage", "write");
	assert_int_equal(bl_plan_set_write(&p, w, "/x/.r0.tmp", "a\nb\n", 4), 0);
	h = bl_plan_add(&p, BL_STAGE_CONFIG, false, "cmd", "r0", "run", "run %d", 7);
	assert_int_equal(bl_plan_set_execl(&p, h, "echo", "it's", "a b", "ok", NULL), 0);
	assert_int_equal(bl_plan_dep(&p, h, w), 0);
	assert_int_equal(bl_plan_cond(&p, "Volume/z", "InUse", "used by %s", "t"), 0);
	assert_int_equal(bl_plan_cond(&p, "Volume/a", "Pending", "later"), 0);
	out = print_plan(&p);
	assert_string_equal(out,
		"plan drbd node=nodea: 2 actions, 2 conditions\n"
		"[1] validate f/r0 stage: write\n"
		"      write /x/.r0.tmp (4 bytes)\n"
		"      | a\n"
		"      | b\n"
		"[2] config cmd/r0 run: run 7\n"
		"      $ echo 'it'\\''s' 'a b' ok\n"
		"      after: 1\n"
		"! Volume/a Pending: later\n"
		"! Volume/z InUse: used by t\n");
	free(out);
	assert_int_equal(bl_plan_changes(&p), 2);
	bl_plan_free(&p);
}

static void test_print_hidden_payload(void **state)
{
	struct bl_plan p;
	char *out;
	int h;

	(void)state;
	assert_int_equal(bl_plan_init(&p, "pcmk", NULL), 0);
	h = bl_plan_add(&p, BL_STAGE_VALIDATE, true, "cib", "c", "validate", "v");
	assert_int_equal(bl_plan_set_execl(&p, h, "crm_verify", "--xml-pipe", NULL), 0);
	assert_int_equal(bl_plan_set_payload(&p, h, "<cib/>", 6), 0);
	assert_int_equal(bl_plan_hide_payload(&p, h), 0);
	out = print_plan(&p);
	assert_non_null(strstr(out, "[1] -validate cib/c validate: v\n"));
	assert_non_null(strstr(out, "(stdin not shown)"));
	assert_null(strstr(out, "<cib/>"));
	free(out);
	bl_plan_free(&p);
}

static void test_json(void **state)
{
	struct bl_plan p;
	json_t *j, *a;
	int h1, h2;

	(void)state;
	assert_int_equal(bl_plan_init(&p, "drbd", "nodea"), 0);
	h1 = bl_plan_add(&p, BL_STAGE_PREREQ, false, "lv", "x", "create", "mk");
	assert_int_equal(bl_plan_set_execl(&p, h1, "lvcreate", "-n", "x", NULL), 0);
	h2 = bl_plan_add(&p, BL_STAGE_CONFIG, true, "f", "x", "delete", "rm");
	assert_int_equal(bl_plan_set_unlink(&p, h2, "/etc/x"), 0);
	assert_int_equal(bl_plan_cond(&p, "o", "R", "m"), 0);
	j = bl_plan_to_json(&p);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "reconciler")), "drbd");
	a = json_array_get(json_object_get(j, "actions"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "verb")), "delete");
	assert_true(json_is_true(json_object_get(a, "remove")));
	assert_string_equal(json_string_value(json_object_get(a, "path")), "/etc/x");
	a = json_array_get(json_object_get(j, "actions"), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "argv"), 0)),
			    "lvcreate");
	assert_int_equal(json_array_size(json_object_get(j, "conditions")), 1);
	json_decref(j);
	bl_plan_free(&p);
}

static void test_shell_quote(void **state)
{
	char *q;

	(void)state;
	q = bl_shell_quote("plain-word_1.2:3/4");
	assert_string_equal(q, "plain-word_1.2:3/4");
	free(q);
	q = bl_shell_quote("");
	assert_string_equal(q, "''");
	free(q);
	q = bl_shell_quote("a'b $x");
	assert_string_equal(q, "'a'\\''b $x'");
	free(q);
}

/* ---- executors ------------------------------------------------------------*/

/* A runner that records argv[0] and stdin and fails commands named
 * "false". */
struct rec_runner {
	char log[1024];
	int calls;
};

static int rec_run(void *arg, const char *const *argv, const char *in,
		   size_t in_len, struct bl_run_out *o)
{
	struct rec_runner *r = arg;
	size_t l = strlen(r->log);

	snprintf(r->log + l, sizeof(r->log) - l, "%s%s%.*s;", argv[0],
		 in ? "<" : "", (int)in_len, in ? in : "");
	r->calls++;
	memset(o, 0, sizeof(*o));
	o->out = strdup("");
	o->err = strdup(strcmp(argv[0], "false") ? "" : "boom");
	o->err_len = strlen(o->err);
	o->status = strcmp(argv[0], "false") ? 0 : 1;
	return 0;
}

static void build_chain(struct bl_plan *p, const char *second)
{
	int a, b, c, d;

	assert_int_equal(bl_plan_init(p, "t", NULL), 0);
	a = bl_plan_add(p, BL_STAGE_PREREQ, false, "k", "a", "v", "a");
	assert_int_equal(bl_plan_set_execl(p, a, "one", NULL), 0);
	b = bl_plan_add(p, BL_STAGE_CONFIG, false, "k", "b", "v", "b");
	assert_int_equal(bl_plan_set_execl(p, b, second, NULL), 0);
	assert_int_equal(bl_plan_set_payload(p, b, "in", 2), 0);
	c = bl_plan_add(p, BL_STAGE_CONFIG, false, "k", "c", "v", "c");
	assert_int_equal(bl_plan_set_execl(p, c, "three", NULL), 0);
	d = bl_plan_add(p, BL_STAGE_ACTIVATE, false, "k", "d", "v", "d");
	assert_int_equal(bl_plan_set_execl(p, d, "four", NULL), 0);
	assert_int_equal(bl_plan_dep(p, d, b), 0);
}

static void test_apply_real_success(void **state)
{
	struct rec_runner r = {0};
	struct bl_executor *ex = bl_exec_real_new(rec_run, &r, NULL);
	struct bl_apply_result res;
	struct bl_plan p;

	(void)state;
	build_chain(&p, "two");
	assert_int_equal(bl_plan_apply(&p, ex, &res), 0);
	assert_string_equal(r.log, "one;two<in;three;four;");
	assert_int_equal(res.done, 4);
	assert_int_equal(res.failed + res.skipped, 0);
	bl_exec_free(ex);
	bl_plan_free(&p);
}

/* A failure: the rest of its stage still runs, later stages do not. */
static void test_apply_failure_policy(void **state)
{
	struct rec_runner r = {0};
	struct bl_executor *ex = bl_exec_real_new(rec_run, &r, NULL);
	struct bl_apply_result res;
	struct bl_plan p;

	(void)state;
	build_chain(&p, "false");
	assert_int_equal(bl_plan_apply(&p, ex, &res), BL_E_EXEC_FAILED);
	assert_string_equal(r.log, "one;false<in;three;");
	assert_int_equal(res.done, 2);
	assert_int_equal(res.failed, 1);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(res.first_failed_id, 2);
	assert_non_null(strstr(ex->last_error, "boom"));
	assert_string_equal(bl_exec_strerror(BL_E_EXEC_FAILED), "command failed");
	bl_exec_free(ex);
	bl_plan_free(&p);
}

/*
 * Windows (plan.h): a pure plan function run once to count, then once per
 * window, applied window by window, does what the whole plan does. The
 * plan mixes removals and creations across stages (so ids are not the
 * insertion order), a note, deps that cross windows, and optionally a
 * failing command in CONFIG.
 */
static int mixed_plan(struct bl_plan *p, const char *fail)
{
	int a, b, c, d, e, f, g;

	a = bl_plan_add(p, BL_STAGE_CONFIG, false, "k", "a", "add", "a");
	if (a < 0 || bl_plan_set_execl(p, a, "a", NULL))
		return -1;
	b = bl_plan_add(p, BL_STAGE_CONFIG, true, "k", "b", "del", "b");
	if (b < 0 || bl_plan_set_execl(p, b, "b", NULL))
		return -1;
	c = bl_plan_add(p, BL_STAGE_PREREQ, false, "k", "c", "add", "c");
	if (c < 0 || bl_plan_set_execl(p, c, "c", NULL) || bl_plan_set_payload(p, c, "x", 1))
		return -1;
	d = bl_plan_add(p, BL_STAGE_CONFIG, false, "k", "d", "add", "d");
	if (d < 0 || bl_plan_set_execl(p, d, fail ? fail : "d", NULL) || bl_plan_dep(p, d, c))
		return -1;
	e = bl_plan_add(p, BL_STAGE_ACTIVATE, true, "k", "e", "del", "e");
	if (e < 0 || bl_plan_set_execl(p, e, "e", NULL))
		return -1;
	f = bl_plan_add(p, BL_STAGE_CONFIG, false, "k", "f", "note", "a note");
	if (f < 0)
		return -1;
	g = bl_plan_add(p, BL_STAGE_ACTIVATE, false, "k", "g", "add", "g");
	if (g < 0 || bl_plan_set_execl(p, g, "g", NULL) || bl_plan_dep(p, g, a) ||
	    bl_plan_dep(p, g, c))
		return -1;
	return bl_plan_cond(p, "k/z", "Why", "a condition");
}

static void check_windows(const char *fail, size_t w)
{
	struct rec_runner whole_r = {0}, win_r = {0};
	struct bl_executor *ex1 = bl_exec_real_new(rec_run, &whole_r, NULL);
	struct bl_executor *ex2 = bl_exec_real_new(rec_run, &win_r, NULL);
	struct bl_apply_result whole_res, win_res;
	struct bl_apply_state st;
	struct bl_plan whole, p;
	char *whole_text;
	int rc1, rc2;

	assert_int_equal(bl_plan_init(&whole, "t", NULL), 0);
	assert_int_equal(mixed_plan(&whole, fail), 0);
	assert_int_equal(bl_plan_sort(&whole), 0);
	whole_text = print_plan(&whole);
	rc1 = bl_plan_apply(&whole, ex1, &whole_res);

	assert_int_equal(bl_plan_init(&p, "t", NULL), 0);
	assert_int_equal(bl_plan_limit(&p, w), 0);
	assert_int_equal(mixed_plan(&p, fail), 0);
	assert_int_equal(bl_plan_sort(&p), 0);
	assert_int_equal(bl_plan_total(&p), whole.n);
	assert_int_equal(bl_plan_changes(&p), bl_plan_changes(&whole));
	assert_int_equal(p.nconds, 1);
	if (w >= whole.n) {
		/* Within the limit: an ordinary plan, the same one. */
		char *t = print_plan(&p);
		assert_false(bl_plan_counted(&p));
		assert_string_equal(t, whole_text);
		free(t);
		rc2 = bl_plan_apply(&p, ex2, &win_res);
	} else {
		assert_true(bl_plan_counted(&p));
		assert_int_equal(p.n, 0);
		assert_int_equal(bl_apply_begin(&st, bl_plan_total(&p)), 0);
		for (size_t first = 1; first <= whole.n; first += w) {
			assert_int_equal(bl_plan_window(&p, first, w), 0);
			assert_int_equal(mixed_plan(&p, fail), 0);
			assert_int_equal(bl_plan_sort(&p), 0);
			assert_true(p.n <= w);
			assert_int_equal(p.nconds, 1);   /* kept, not added again */
			for (size_t i = 0; i < p.n; i++) {
				const struct bl_action *a = &p.v[i], *x = &whole.v[first + i - 1];
				assert_int_equal(a->id, first + i);
				assert_string_equal(a->desc, x->desc);
				assert_int_equal(a->ndeps, x->ndeps);
				for (size_t j = 0; j < a->ndeps; j++)
					assert_int_equal(a->deps[j], x->deps[j]);
			}
			assert_int_equal(bl_apply_run(&st, &p, ex2), 0);
		}
		rc2 = bl_apply_end(&st, &win_res);
	}
	assert_int_equal(rc2, rc1);
	assert_string_equal(win_r.log, whole_r.log);
	assert_int_equal(win_res.done, whole_res.done);
	assert_int_equal(win_res.failed, whole_res.failed);
	assert_int_equal(win_res.skipped, whole_res.skipped);
	assert_int_equal(win_res.first_failed_id, whole_res.first_failed_id);
	free(whole_text);
	bl_plan_free(&whole);
	bl_plan_free(&p);
	bl_exec_free(ex1);
	bl_exec_free(ex2);
}

static void test_windows(void **state)
{
	(void)state;
	for (size_t w = 1; w <= 8; w++) {
		check_windows(NULL, w);
		check_windows("false", w);
	}
}

/* Misuse is refused: a window before counting, a plan run that is not the
 * counted one (plan() not pure), a window applied outside its plan. */
static void test_windows_misuse(void **state)
{
	struct rec_runner r = {0};
	struct bl_executor *ex = bl_exec_real_new(rec_run, &r, NULL);
	struct bl_apply_state st;
	struct bl_plan p;
	int h;

	(void)state;
	assert_int_equal(bl_plan_init(&p, "t", NULL), 0);
	assert_int_equal(bl_plan_window(&p, 1, 2), -EINVAL);
	assert_int_equal(bl_plan_limit(&p, 2), 0);
	assert_int_equal(mixed_plan(&p, NULL), 0);
	assert_int_equal(bl_plan_limit(&p, 2), -EINVAL);
	assert_int_equal(bl_plan_sort(&p), 0);
	assert_int_equal(bl_plan_total(&p), 7);
	assert_int_equal(bl_plan_changes(&p), 6);
	assert_int_equal(bl_plan_window(&p, 1, 2), 0);
	h = bl_plan_add(&p, BL_STAGE_CONFIG, false, "k", "only", "add", "one");
	assert_true(h > 0);
	assert_int_equal(bl_plan_dep(&p, h, h + 1), -EINVAL);
	assert_int_equal(bl_plan_sort(&p), -EINVAL);   /* 1 action, 7 counted */
	assert_int_equal(bl_plan_window(&p, 3, 2), 0);
	assert_int_equal(mixed_plan(&p, NULL), 0);
	assert_int_equal(bl_plan_sort(&p), 0);
	assert_int_equal(bl_apply_begin(&st, 3), 0);
	assert_int_equal(bl_apply_run(&st, &p, ex), -EINVAL);   /* id 4 > 3 */
	bl_apply_end(&st, NULL);
	bl_plan_free(&p);
	bl_exec_free(ex);
}

static void test_apply_dry_run(void **state)
{
	struct bl_executor *ex;
	struct bl_apply_result res;
	struct bl_plan p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	ex = bl_exec_dry_new(f);
	build_chain(&p, "false"); /* nothing runs, so nothing fails */
	assert_int_equal(bl_plan_apply(&p, ex, &res), 0);
	fclose(f);
	assert_int_equal(res.done, 4);
	assert_non_null(strstr(buf, "would: [1] prereq k/a v: a\n"));
	assert_non_null(strstr(buf, "would: [4] activate k/d v: d\n"));
	free(buf);
	bl_exec_free(ex);
	bl_plan_free(&p);
}

static void test_fault_parse(void **state)
{
	unsigned n = 0;
	int die = -1;

	(void)state;
	assert_int_equal(bl_exec_fault_parse("apply:3", &n, &die), 0);
	assert_int_equal(n, 3);
	assert_int_equal(die, 0);
	assert_int_equal(bl_exec_fault_parse("apply:0:die", &n, &die), 0);
	assert_int_equal(n, 0);
	assert_int_equal(die, 1);
	assert_int_equal(bl_exec_fault_parse(NULL, &n, &die), -ENOENT);
	assert_int_equal(bl_exec_fault_parse("watch:1", &n, &die), -ENOENT);
	assert_int_equal(bl_exec_fault_parse("apply:", &n, &die), -EINVAL);
	assert_int_equal(bl_exec_fault_parse("apply:2:x", &n, &die), -EINVAL);
}

static void test_fault_fail_after(void **state)
{
	struct rec_runner r = {0};
	struct bl_executor *ex;
	struct bl_apply_result res;
	struct bl_plan p;

	(void)state;
	ex = bl_exec_fault_new(bl_exec_real_new(rec_run, &r, NULL), 1, 0);
	build_chain(&p, "two");
	assert_int_equal(bl_plan_apply(&p, ex, &res), BL_E_FAULT);
	/* one ran; "two" got the fault; "three" is in the same stage but the
	 * fault executor keeps failing; "four" is a later stage: skipped */
	assert_string_equal(r.log, "one;");
	assert_int_equal(res.done, 1);
	assert_int_equal(res.failed, 2);
	assert_int_equal(res.skipped, 1);
	bl_exec_free(ex);
	bl_plan_free(&p);
}

/* die: the process is killed with SIGKILL before the action runs. */
static void test_fault_die(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rec_runner r = {0};
		struct bl_executor *ex;
		struct bl_plan p;

		ex = bl_exec_fault_new(bl_exec_real_new(rec_run, &r, NULL), 2, 1);
		build_chain(&p, "two");
		bl_plan_apply(&p, ex, NULL);
		_exit(0); /* not reached */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

/* File ops and the real process runner, under a root prefix. */
static void test_real_files_and_process(void **state)
{
	char root[] = "/tmp/bollard-test-plan.XXXXXX", path[256], buf[64];
	struct bl_executor *ex;
	struct bl_run_out o = {0};
	struct bl_plan p;
	const char *argv[] = { "cat", NULL };
	const char *nope[] = { "/nonexistent/prog", NULL };
	FILE *f;
	int h1, h2, h3, h4;

	(void)state;
	assert_non_null(mkdtemp(root));
	ex = bl_exec_real_new(NULL, NULL, root);
	assert_int_equal(bl_plan_init(&p, "t", NULL), 0);
	h1 = bl_plan_add(&p, BL_STAGE_VALIDATE, false, "f", "x", "w", "w");
	assert_int_equal(bl_plan_set_write(&p, h1, "/.x.tmp", "hello\n", 6), 0);
	h2 = bl_plan_add(&p, BL_STAGE_CONFIG, false, "f", "x", "mv", "mv");
	assert_int_equal(bl_plan_set_rename(&p, h2, "/.x.tmp", "/x"), 0);
	h3 = bl_plan_add(&p, BL_STAGE_CONFIG, true, "f", "gone", "rm", "rm");
	assert_int_equal(bl_plan_set_unlink(&p, h3, "/never-there"), 0);
	h4 = bl_plan_add(&p, BL_STAGE_ACTIVATE, false, "cmd", "x", "run", "run");
	assert_int_equal(bl_plan_set_execl(&p, h4, "true", NULL), 0);
	assert_int_equal(bl_plan_apply(&p, ex, NULL), 0);
	snprintf(path, sizeof(path), "%s/x", root);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "hello\n");
	unlink(path);
	rmdir(root);
	bl_plan_free(&p);
	bl_exec_free(ex);

	assert_int_equal(bl_run_process(NULL, argv, "abc", 3, &o), 0);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.out, "abc");
	bl_run_out_free(&o);
	assert_int_equal(bl_run_process(NULL, nope, NULL, 0, &o), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_order),
		cmocka_unit_test(test_sort_rejects_backward_dep),
		cmocka_unit_test(test_print_text),
		cmocka_unit_test(test_print_hidden_payload),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_apply_real_success),
		cmocka_unit_test(test_apply_failure_policy),
		cmocka_unit_test(test_apply_dry_run),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_windows_misuse),
		cmocka_unit_test(test_fault_parse),
		cmocka_unit_test(test_fault_fail_after),
		cmocka_unit_test(test_fault_die),
		cmocka_unit_test(test_real_files_and_process),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
