/*
 * exec.c - real, dry-run and fault-injecting executors (see exec.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bl_err.h"
#include "exec.h"

const char *bl_exec_strerror(int rc)
{
	switch (rc) {
	case BL_E_EXEC_FAILED: return "command failed";
	case BL_E_FAULT:       return "injected fault";
	}
	return bl_strerror(rc);
}

void bl_run_out_free(struct bl_run_out *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
}

/* ---- the default process runner ----------------------------------------*/

struct growbuf {
	char *p;
	size_t len, cap;
};

static int gb_read(struct growbuf *b, int fd)
{
	ssize_t r;

	if (b->cap - b->len < 4097) {
		size_t cap = b->cap ? b->cap * 2 : 8192;
		char *p = realloc(b->p, cap);

		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	r = read(fd, b->p + b->len, b->cap - b->len - 1);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	b->len += (size_t)r;
	b->p[b->len] = '\0';
	return r == 0 ? 0 : 1;
}

int bl_run_process(void *arg, const char *const *argv, const char *in,
		   size_t in_len, struct bl_run_out *o)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	int pexec[2] = {-1, -1};
	struct growbuf bo = {0}, be = {0};
	size_t in_off = 0;
	int rc = 0, status, child_errno = 0;
	pid_t pid;

	(void)arg;
	if (!argv || !argv[0])
		return -EINVAL;
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) ||
	    pipe2(perr, O_CLOEXEC) || pipe2(pexec, O_CLOEXEC)) {
		rc = -errno;
		goto out_close;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out_close;
	}
	if (pid == 0) {
		int e;

		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		e = errno;
		if (write(pexec[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pin[0]); pin[0] = -1;
	close(pout[1]); pout[1] = -1;
	close(perr[1]); perr[1] = -1;
	close(pexec[1]); pexec[1] = -1;
	if (!in || !in_len) {
		close(pin[1]);
		pin[1] = -1;
	} else {
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	}
	while (pout[0] >= 0 || perr[0] >= 0 || pin[1] >= 0) {
		struct pollfd fds[3] = {
			{ .fd = pout[0], .events = POLLIN },
			{ .fd = perr[0], .events = POLLIN },
			{ .fd = pin[1], .events = POLLOUT },
		};

		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &perr[0] : &pout[0];
			int r;

			if (*fd < 0 || !fds[i].revents)
				continue;
			r = gb_read(i ? &be : &bo, *fd);
			if (r <= 0) {
				if (r < 0 && !rc)
					rc = r;
				close(*fd);
				*fd = -1;
			}
		}
		if (pin[1] >= 0 && fds[2].revents) {
			ssize_t w = write(pin[1], in + in_off, in_len - in_off);

			if (w > 0)
				in_off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    in_off == in_len) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
	}
	if (read(pexec[0], &child_errno, sizeof(child_errno)) !=
	    sizeof(child_errno))
		child_errno = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!rc && child_errno)
		rc = -child_errno;
	if (!rc) {
		o->out = bo.p ? bo.p : strdup("");
		o->out_len = bo.len;
		o->err = be.p ? be.p : strdup("");
		o->err_len = be.len;
		o->status = WIFEXITED(status) ? WEXITSTATUS(status)
					      : 128 + WTERMSIG(status);
		if (!o->out || !o->err) {
			bl_run_out_free(o);
			return -ENOMEM;
		}
		return 0;
	}
	free(bo.p);
	free(be.p);
	return rc;

out_close:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0) close(pin[i]);
		if (pout[i] >= 0) close(pout[i]);
		if (perr[i] >= 0) close(perr[i]);
		if (pexec[i] >= 0) close(pexec[i]);
	}
	return rc;
}

/* ---- real executor --------------------------------------------------------*/

struct real_exec {
	struct bl_executor ex;
	bl_run_fn run;
	void *run_arg;
	char *root;
};

static int real_path(struct real_exec *r, const char *path, char *buf,
		     size_t len)
{
	int n = snprintf(buf, len, "%s%s", r->root ? r->root : "", path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void set_err(struct bl_executor *ex, const char *fmt, const char *a,
		    const char *b)
{
	snprintf(ex->last_error, sizeof(ex->last_error), fmt, a, b ? b : "");
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			return -e;
		}
		off += (size_t)w;
	}
	if (fsync(fd)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return close(fd) ? -errno : 0;
}

static int real_run(struct bl_executor *ex, const struct bl_action *a)
{
	struct real_exec *r = (struct real_exec *)ex;
	char p1[PATH_MAX], p2[PATH_MAX];
	struct bl_run_out o = {0};
	int rc;

	switch (a->op) {
	case BL_OP_NOTE:
		return 0;
	case BL_OP_EXEC:
		rc = r->run(r->run_arg, (const char *const *)a->argv,
			    a->payload, a->payload_len, &o);
		if (rc) {
			set_err(ex, "%.300s: %s", a->argv[0], bl_strerror(rc));
			return rc;
		}
		if (o.status) {
			size_t l = o.err_len;

			while (l && (o.err[l - 1] == '\n' || o.err[l - 1] == ' '))
				o.err[--l] = '\0';
			snprintf(ex->last_error, sizeof(ex->last_error),
				 "%s exited %d: %s", a->argv[0], o.status,
				 l ? o.err : o.out);
			bl_run_out_free(&o);
			return BL_E_EXEC_FAILED;
		}
		bl_run_out_free(&o);
		return 0;
	case BL_OP_WRITE:
		if ((rc = real_path(r, a->path, p1, sizeof(p1))))
			return rc;
		rc = write_file(p1, a->payload ? a->payload : "",
				a->payload_len);
		if (rc)
			set_err(ex, "write %.300s: %s", p1, strerror(-rc));
		return rc;
	case BL_OP_RENAME:
		if ((rc = real_path(r, a->path, p1, sizeof(p1))) ||
		    (rc = real_path(r, a->path2, p2, sizeof(p2))))
			return rc;
		if (rename(p1, p2)) {
			rc = -errno;
			set_err(ex, "rename %.300s: %s", p1, strerror(-rc));
		}
		return rc;
	case BL_OP_UNLINK:
		if ((rc = real_path(r, a->path, p1, sizeof(p1))))
			return rc;
		if (unlink(p1) && errno != ENOENT) {
			rc = -errno;
			set_err(ex, "unlink %.300s: %s", p1, strerror(-rc));
		}
		return rc;
	}
	return -EINVAL;
}

static void real_destroy(struct bl_executor *ex)
{
	struct real_exec *r = (struct real_exec *)ex;

	free(r->root);
	free(r);
}

static const struct bl_exec_ops real_ops = {
	.name = "real",
	.run = real_run,
	.destroy = real_destroy,
};

struct bl_executor *bl_exec_real_new(bl_run_fn run, void *run_arg,
				     const char *root)
{
	struct real_exec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ex.ops = &real_ops;
	r->run = run ? run : bl_run_process;
	r->run_arg = run_arg;
	if (root && !(r->root = strdup(root))) {
		free(r);
		return NULL;
	}
	return &r->ex;
}

/* ---- dry-run executor ----------------------------------------------------*/

struct dry_exec {
	struct bl_executor ex;
	FILE *out;
};

static int dry_run(struct bl_executor *ex, const struct bl_action *a)
{
	struct dry_exec *d = (struct dry_exec *)ex;

	if (d->out)
		fprintf(d->out, "would: [%u] %s %s/%s %s: %s\n", a->id,
			bl_stage_name(a->stage), a->kind, a->object, a->verb,
			a->desc);
	return 0;
}

static void dry_destroy(struct bl_executor *ex)
{
	free(ex);
}

static const struct bl_exec_ops dry_ops = {
	.name = "dry-run",
	.run = dry_run,
	.destroy = dry_destroy,
};

struct bl_executor *bl_exec_dry_new(FILE *out)
{
	struct dry_exec *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ex.ops = &dry_ops;
	d->out = out;
	return &d->ex;
}

/* ---- fault executor ------------------------------------------------------*/

struct fault_exec {
	struct bl_executor ex;
	struct bl_executor *inner;
	unsigned after, count;
	int die;
};

static int fault_run(struct bl_executor *ex, const struct bl_action *a)
{
	struct fault_exec *f = (struct fault_exec *)ex;
	int rc;

	if (f->count++ >= f->after) {
		if (f->die)
			kill(getpid(), SIGKILL);
		snprintf(ex->last_error, sizeof(ex->last_error),
			 "injected fault after %u actions", f->after);
		return BL_E_FAULT;
	}
	rc = f->inner->ops->run(f->inner, a);
	if (rc)
		memcpy(ex->last_error, f->inner->last_error,
		       sizeof(ex->last_error));
	return rc;
}

static void fault_destroy(struct bl_executor *ex)
{
	struct fault_exec *f = (struct fault_exec *)ex;

	bl_exec_free(f->inner);
	free(f);
}

static const struct bl_exec_ops fault_ops = {
	.name = "fault",
	.run = fault_run,
	.destroy = fault_destroy,
};

struct bl_executor *bl_exec_fault_new(struct bl_executor *inner,
				      unsigned after, int die)
{
	struct fault_exec *f;

	if (!inner)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->ex.ops = &fault_ops;
	f->inner = inner;
	f->after = after;
	f->die = die;
	return &f->ex;
}

int bl_exec_fault_parse(const char *spec, unsigned *after, int *die)
{
	unsigned long n;
	char *end;

	if (!spec || !*spec || strncmp(spec, "apply:", 6))
		return -ENOENT;
	errno = 0;
	n = strtoul(spec + 6, &end, 10);
	if (end == spec + 6 || errno || n > UINT_MAX)
		return -EINVAL;
	if (*end == '\0')
		*die = 0;
	else if (!strcmp(end, ":die"))
		*die = 1;
	else
		return -EINVAL;
	*after = (unsigned)n;
	return 0;
}

void bl_exec_free(struct bl_executor *ex)
{
	if (ex)
		ex->ops->destroy(ex);
}

/* ---- applying a plan -----------------------------------------------------*/

int bl_apply_begin(struct bl_apply_state *st, size_t total)
{
	memset(st, 0, sizeof(*st));
	st->ok = calloc(total + 1, 1);
	if (!st->ok)
		return -ENOMEM;
	st->n = total;
	return 0;
}

int bl_apply_run(struct bl_apply_state *st, struct bl_plan *p,
		 struct bl_executor *ex)
{
	int rc;

	if ((rc = bl_plan_sort(p)))
		return rc;
	for (size_t i = 0; i < p->n; i++) {
		const struct bl_action *a = &p->v[i];
		int rank = a->remove ? -(int)a->stage - 1 : (int)a->stage + 100;
		bool deps_ok = true;

		if (a->id > st->n)
			return -EINVAL;   /* not a window of the plan begun */
		for (size_t j = 0; j < a->ndeps; j++)
			deps_ok &= st->ok[a->deps[j]] != 0;
		/* After a failure only the rest of that (phase, stage) runs. */
		if (!deps_ok || (st->stage_failed && rank != st->rank_failed)) {
			st->r.skipped++;
			continue;
		}
		rc = ex->ops->run(ex, a);
		if (rc) {
			st->r.failed++;
			if (!st->r.first_error) {
				st->r.first_error = rc;
				st->r.first_failed_id = a->id;
			}
			if (!st->stage_failed) {
				st->stage_failed = true;
				st->rank_failed = rank;
			}
			continue;
		}
		st->ok[a->id] = 1;
		st->r.done++;
	}
	return 0;
}

int bl_apply_end(struct bl_apply_state *st, struct bl_apply_result *res)
{
	free(st->ok);
	st->ok = NULL;
	if (res)
		*res = st->r;
	return st->r.first_error;
}

int bl_plan_apply(struct bl_plan *p, struct bl_executor *ex,
		  struct bl_apply_result *res)
{
	struct bl_apply_state st;
	int rc;

	if ((rc = bl_plan_sort(p)))
		return rc;
	if ((rc = bl_apply_begin(&st, p->n)))
		return rc;
	rc = bl_apply_run(&st, p, ex);
	if (rc) {
		bl_apply_end(&st, NULL);
		return rc;
	}
	return bl_apply_end(&st, res);
}
