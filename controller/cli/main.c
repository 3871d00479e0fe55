/*
 * main.c - `bollard` entry point: command dispatch, flag parsing, help.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl_schema.h"
#include "cli.h"

#ifndef BOLLARD_VERSION
#define BOLLARD_VERSION "0.1-dev"
#endif

static const char main_usage[] =
"bollard - declarative iSCSI storage: apply YAML into etcd, bollardd makes it so.\n"
"\n"
"Usage: bollard COMMAND [ARGS] [FLAGS]\n"
"\n"
"Commands:\n"
"  apply -f FILE|DIR|URL|-   create or update objects (--dry-run, --prune -l k=v)\n"
"  diff -f FILE|DIR|URL|-    show what apply would change (exit 1 if anything)\n"
"  get KIND [NAME...]        list objects (-o yaml|json|wide|name, -l k=v)\n"
"  describe KIND NAME        show one object, its references and status\n"
"  delete KIND NAME...       delete objects (or -f FILE|DIR)\n"
"  up                        run a local etcd with the quickstart examples\n"
"  plan                      what bollardd would change on this node now\n"
"  target ...                manage a running bollard-target engine\n"
"  version                   print client and server versions\n"
"  completion bash           print a bash completion script\n"
"\n"
"Kinds: cluster (cl), volume (vol), target (tgt), secret (sec), rollout (ro).\n"
"\n"
"Global flags (every command):\n"
"  --etcd URL[,URL]          etcd endpoints (else $BOLLARD_ETCD, else the etcd\n"
"                            started by `bollard up`)\n"
"  --etcd-user USER, --etcd-password PASS\n"
"  --cacert FILE, --cert FILE, --key FILE   TLS for https:// endpoints\n"
"                            (else $BOLLARD_ETCD_CACERT, _CERT, _KEY)\n"
"  --timeout DURATION        per etcd request (default 5s)\n"
"  -h, --help                help for any command\n"
"\n"
"Run `bollard COMMAND --help` for a command's flags.\n";

void cli_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", c->err);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
}

/* ---- flags ---------------------------------------------------------------*/

static int set_global(struct cli *c, const char *name, const char *val)
{
	if (!strcmp(name, "etcd"))
		c->etcd = val;
	else if (!strcmp(name, "etcd-user"))
		c->user = val;
	else if (!strcmp(name, "etcd-password"))
		c->password = val;
	else if (!strcmp(name, "cacert"))
		c->cacert = val;
	else if (!strcmp(name, "cert"))
		c->cert = val;
	else if (!strcmp(name, "key"))
		c->key = val;
	else if (!strcmp(name, "timeout")) {
		uint64_t ms;
		char *end;
		unsigned long s = strtoul(val, &end, 10);

		if (*val && !*end)
			ms = (uint64_t)s * 1000;
		else if (bl_parse_duration(val, &ms) < 0) {
			cli_error(c, "invalid --timeout %s (e.g. 5s, 500ms)", val);
			return -1;
		}
		if (ms == 0 || ms > 3600u * 1000) {
			cli_error(c, "--timeout must be between 1ms and 1h");
			return -1;
		}
		c->timeout_ms = (int)ms;
	} else
		return 1;
	return 0;
}

static const char *const global_long[] = {
	"etcd", "etcd-user", "etcd-password", "cacert", "cert", "key",
	"timeout", NULL,
};

static bool is_global(const char *name)
{
	for (size_t i = 0; global_long[i]; i++)
		if (!strcmp(global_long[i], name))
			return true;
	return false;
}

static const struct cli_flag *find_long(const struct cli_flag *f,
					const char *name, size_t len)
{
	for (; f && f->lng; f++)
		if (strlen(f->lng) == len && !strncmp(f->lng, name, len))
			return f;
	return NULL;
}

static const struct cli_flag *find_short(const struct cli_flag *f, char ch)
{
	for (; f && f->lng; f++)
		if (f->shrt && f->shrt == ch)
			return f;
	return NULL;
}

int cli_parse(struct cli *c, int argc, char **argv,
	      const struct cli_flag *flags, void *arg, const char *usage)
{
	char **ops = calloc((size_t)argc + 1, sizeof(*ops));
	int nops = 0;
	bool only_ops = false;

	if (!ops) {
		cli_error(c, "out of memory");
		return -1;
	}
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct cli_flag *f = NULL;
		char namebuf[64];
		const char *name, *val = NULL;
		bool inline_val = false;

		if (only_ops || a[0] != '-' || !a[1]) {
			ops[nops++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_ops = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, c->out);
			fputs("\nGlobal flags (--etcd, --etcd-user, --etcd-password, "
			      "--cacert, --cert, --key,\n--timeout): see "
			      "'bollard --help'.\n", c->out);
			free(ops);
			return -2;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			if (len >= sizeof(namebuf))
				len = sizeof(namebuf) - 1;
			memcpy(namebuf, a + 2, len);
			namebuf[len] = 0;
			name = namebuf;
			if (eq) {
				val = eq + 1;
				inline_val = true;
			}
			f = find_long(flags, name, len);
			if (!f && is_global(name)) {
				if (!val) {
					if (i + 1 >= argc) {
						cli_error(c, "flag needs an argument: --%s", name);
						goto err;
					}
					val = argv[++i];
				}
				if (set_global(c, name, val))
					goto err;
				continue;
			}
		} else {
			f = find_short(flags, a[1]);
			namebuf[0] = a[1];
			namebuf[1] = 0;
			name = namebuf;
			if (a[2]) {
				/* -oyaml and -o=yaml, like pflag */
				val = a + 2 + (a[2] == '=');
				inline_val = true;
			}
		}
		if (!f) {
			cli_error(c, "unknown flag: %s\nSee 'bollard %s --help'.",
				  a, argv[0]);
			goto err;
		}
		if (f->arg == CLI_NOARG) {
			if (inline_val && a[1] == '-') {
				/* --dry-run=true|false */
				if (!strcmp(val, "false"))
					continue;
				if (strcmp(val, "true")) {
					cli_error(c, "flag --%s takes no value", f->lng);
					goto err;
				}
			} else if (inline_val) {
				cli_error(c, "unknown flag: %s", a);
				goto err;
			}
			val = NULL;
		} else if (!inline_val) {
			if (i + 1 >= argc) {
				cli_error(c, "flag needs an argument: %s", a);
				goto err;
			}
			val = argv[++i];
		}
		if (f->set(arg, f->lng, val))
			goto err;
	}
	for (int i = 0; i < nops; i++)
		argv[i + 1] = ops[i];
	free(ops);
	return nops;
err:
	free(ops);
	return -1;
}

/* ---- version -------------------------------------------------------------*/

static const char version_usage[] =
"Usage: bollard version [--client] [-o json]\n"
"\n"
"Print the client version and, when etcd is reachable, its version.\n";

struct version_opts {
	bool client_only;
	bool json;
	struct cli *c;
};

static int version_set(void *arg, const char *flag, const char *val)
{
	struct version_opts *o = arg;

	if (!strcmp(flag, "client"))
		o->client_only = true;
	else if (!strcmp(flag, "output")) {
		if (strcmp(val, "json")) {
			cli_error(o->c, "version: -o must be json");
			return -1;
		}
		o->json = true;
	}
	return 0;
}

/* etcd answers GET /version with {"etcdserver":"3.4.23",...}. */
static char *server_version(struct cli *c)
{
	char *ep = cli_endpoint(c);
	char *buf = NULL, *url = NULL, *out = NULL, *comma;
	size_t len;
	char errbuf[256];
	json_t *v;

	if (!ep)
		return NULL;
	comma = strchr(ep, ',');
	if (comma)
		*comma = 0;
	if (asprintf(&url, "%s/version", ep) < 0)
		url = NULL;
	if (url && input_fetch_url(url, c->cacert, c->cert, c->key,
				   c->timeout_ms ? c->timeout_ms : 2000,
				   &buf, &len, errbuf, sizeof(errbuf)) == 0) {
		v = json_loadb(buf, len, 0, NULL);
		if (v && json_is_string(json_object_get(v, "etcdserver")))
			out = strdup(json_string_value(
				json_object_get(v, "etcdserver")));
		json_decref(v);
	}
	free(buf);
	free(url);
	free(ep);
	return out;
}

int cmd_version(struct cli *c, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{ "client", 0, CLI_NOARG, version_set },
		{ "output", 'o', CLI_ARG, version_set },
		{ 0 },
	};
	struct version_opts o = { .c = c };
	char *sv = NULL;
	FILE *saved_err = c->err;
	FILE *devnull;
	int n = cli_parse(c, argc, argv, flags, &o, version_usage);

	if (n < 0)
		return n == -2 ? 0 : 1;
	if (!o.client_only) {
		/* No endpoint configured is not an error for `version`. */
		devnull = fopen("/dev/null", "w");
		if (devnull)
			c->err = devnull;
		sv = server_version(c);
		c->err = saved_err;
		if (devnull)
			fclose(devnull);
	}
	if (o.json) {
		json_t *j = json_pack("{s:s}", "clientVersion", BOLLARD_VERSION);

		if (j && sv)
			json_object_set_new(j, "etcdVersion", json_string(sv));
		if (j)
			json_dumpf(j, c->out, JSON_INDENT(2));
		fputc('\n', c->out);
		json_decref(j);
	} else {
		fprintf(c->out, "Client Version: %s\n", BOLLARD_VERSION);
		if (sv)
			fprintf(c->out, "Server Version: etcd %s\n", sv);
		else if (!o.client_only)
			fprintf(c->out, "Server Version: (etcd not reachable)\n");
	}
	free(sv);
	return 0;
}

/* ---- completion ----------------------------------------------------------*/

static const char completion_bash[] =
"# bash completion for bollard; load with: source <(bollard completion bash)\n"
"_bollard() {\n"
"\tlocal cur prev cmd\n"
"\tcur=${COMP_WORDS[COMP_CWORD]}\n"
"\tprev=${COMP_WORDS[COMP_CWORD-1]}\n"
"\tcmd=${COMP_WORDS[1]}\n"
"\tif [ \"$COMP_CWORD\" = 1 ]; then\n"
"\t\tCOMPREPLY=($(compgen -W 'apply diff get describe delete up target version completion' -- \"$cur\"))\n"
"\t\treturn\n"
"\tfi\n"
"\tcase $prev in\n"
"\t-f|--filename) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
"\t-o|--output) COMPREPLY=($(compgen -W 'yaml json wide name' -- \"$cur\")); return ;;\n"
"\tesac\n"
"\tcase $cmd in\n"
"\tget|describe|delete)\n"
"\t\tif [ \"$COMP_CWORD\" = 2 ]; then\n"
"\t\t\tCOMPREPLY=($(compgen -W 'all clusters volumes targets secrets rollouts' -- \"$cur\"))\n"
"\t\telif [ \"$COMP_CWORD\" -ge 3 ] && [[ $cur != -* ]]; then\n"
"\t\t\tCOMPREPLY=($(compgen -W \"$(bollard get \"${COMP_WORDS[2]}\" -o name 2>/dev/null | sed 's|.*/||')\" -- \"$cur\"))\n"
"\t\tfi ;;\n"
"\tcompletion) COMPREPLY=($(compgen -W 'bash' -- \"$cur\")) ;;\n"
"\tesac\n"
"}\n"
"complete -F _bollard bollard\n";

int cmd_completion(struct cli *c, int argc, char **argv)
{
	int n = cli_parse(c, argc, argv, NULL, NULL,
			  "Usage: bollard completion bash\n");

	if (n < 0)
		return n == -2 ? 0 : 1;
	if (n != 1 || strcmp(argv[1], "bash")) {
		cli_error(c, "completion: only `bash` is supported");
		return 1;
	}
	fputs(completion_bash, c->out);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------*/

struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
};

static const struct command commands[] = {
	{ "apply", cmd_apply },
	{ "diff", cmd_diff },
	{ "get", cmd_get },
	{ "describe", cmd_describe },
	{ "delete", cmd_delete },
	{ "up", cmd_up },
	{ "version", cmd_version },
	{ "completion", cmd_completion },
	{ NULL, NULL },
};

/*
 * `bollard plan` links the reconcilers and with them libxml2 (and ICU,
 * libstdc++): ~8 ms of dynamic loading that every other command would pay.
 * So build/bollard is built without it and runs `plan` by exec'ing
 * bollard-plan (the same CLI with plan linked in), looked up next to this
 * binary first, then in PATH, with the same arguments: global flags and
 * all behave exactly as before.
 */
static int exec_sibling(const char *name, char **argv)
{
	char self[4096], *path = NULL, *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *const orig0 = argv[0];

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (asprintf(&path, "%s/%s", self, name) < 0)
				path = NULL;
		}
	}
	if (path) {
		argv[0] = path;
		execv(path, argv);
		free(path);
	}
	argv[0] = (char *)name;
	execvp(name, argv);
	argv[0] = orig0;
	fprintf(stderr, "Error: %s %s needs %s, installed next to %s or in PATH: %s\n",
		orig0, "plan", name, orig0, strerror(errno));
	return 2;
}

/* controller/rollout/ (cli_rollout.c, fleet_sim.c), when linked in. */
int cmd_rollout(struct cli *c, int argc, char **argv) __attribute__((weak));
int cmd_fleet_sim(struct cli *c, int argc, char **argv) __attribute__((weak));

int main(int argc, char **argv)
{
	struct cli c = {
		.out = stdout,
		.err = stderr,
		.argv0 = argv[0],
	};
	int i = 1;

	/* Global flags may also come before the command. */
	while (i < argc && argv[i][0] == '-' && argv[i][1]) {
		const char *a = argv[i] + 2;
		char name[64];
		const char *eq;
		size_t len;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(main_usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("bollard %s\n", BOLLARD_VERSION);
			return 0;
		}
		if (argv[i][1] != '-')
			break;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		if (len >= sizeof(name))
			break;
		memcpy(name, a, len);
		name[len] = 0;
		if (!is_global(name))
			break;
		if (eq)
			eq++;
		else if (i + 1 < argc)
			eq = argv[++i];
		else {
			cli_error(&c, "flag needs an argument: --%s", name);
			return 1;
		}
		if (set_global(&c, name, eq))
			return 1;
		i++;
	}
	if (i >= argc) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[i], "help")) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[i], "plan")) {
		if (!cmd_live_plan)
			return exec_sibling("bollard-plan", argv);
		return cmd_live_plan(&c, argc - i, argv + i);
	}
	if (!strcmp(argv[i], "rollout") && cmd_rollout)
		return cmd_rollout(&c, argc - i, argv + i);
	if (!strcmp(argv[i], "fleet-sim") && cmd_fleet_sim)
		return cmd_fleet_sim(&c, argc - i, argv + i);
	if (!strcmp(argv[i], "target")) {
		if (!cmd_target) {
			fputs("bollard: target: not built in\n", stderr);
			return 1;
		}
		return cmd_target(argc - i, argv + i);
	}
	for (const struct command *cmd = commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, argv[i]))
			return cmd->fn(&c, argc - i, argv + i);
	cli_error(&c, "unknown command \"%s\" for \"bollard\"\n"
		  "Run 'bollard --help' for usage.", argv[i]);
	return 1;
}
