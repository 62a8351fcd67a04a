/*
 * session.c -- loading, connecting and secrets for the commands that talk
 * to CM.
 *
 * The connection settings come from three places with a fixed precedence
 * (DESIGN.md): flags beat the environment, which beats the `manager:`
 * section of the desired-state file.  main.c has already merged the first
 * two into struct cli_globals; the file's values fill what is still
 * missing here.  The URL policy (https, or http only to loopback unless
 * --allow-insecure-http) is enforced before any credentials are sent.
 */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"
#include "cmr/load.h"
#include "cmr/transport.h"

void session_print_diags(struct cmr_diag_list *diags)
{
	size_t i;

	cmr_diag_list_sort(diags);
	for (i = 0; i < diags->len; i++) {
		const struct cmr_diag *d = &diags->items[i];

		if (d->where.file)
			fprintf(stderr, "%s:%u:%u: ", d->where.file,
			        (unsigned)d->where.line,
			        (unsigned)d->where.col);
		fprintf(stderr, "%s: %s\n", cmr_diag_severity_name(d->severity),
		        d->msg);
	}
}

int session_load(struct session *s, char **files, int nfiles)
{
	struct cmr_diag_list diags;
	struct cmr_error err = CMR_ERROR_INIT;
	int rc;

	cmr_diag_list_init(&diags);
	rc = cmr_load_files(&s->desired, (const char *const *)files,
	                    (size_t)nfiles, &diags, &err);
	session_print_diags(&diags);
	cmr_diag_list_release(&diags);
	if (rc == CMR_ENOTFOUND) {
		cli_error("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	if (rc < 0) {
		cli_error("%s", err.msg);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

/* The password the file points at ({env:}/{file:}); caller wipes it. */
static int file_password(struct session *s, struct cmr_buf *out)
{
	const struct cmr_config_entry *pw = s->desired->manager.password;
	struct cmr_error err = CMR_ERROR_INIT;

	if (!pw)
		return 0;
	if (cmr_secret_resolve(out, &pw->value, &err) < 0) {
		cli_error("manager.password: %s", err.msg);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

int session_connect(struct session *s)
{
	const struct cli_globals *g = s->g;
	const struct cmr_manager *m = &s->desired->manager;
	struct cmr_http_options hopt;
	struct cmr_client_options copt;
	struct cmr_transport *t = NULL;
	struct cmr_buf pw = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	const char *v;
	int rc;

	memset(&hopt, 0, sizeof(hopt));
	memset(&copt, 0, sizeof(copt));
	s->url = g->url ? g->url : m->url;
	if (!s->url)
		return cli_usage_error("no Cloudera Manager URL: give --url, "
		                       "set CMRECON_URL, or write manager.url "
		                       "in the file");
	if (cmr_http_check_url(s->url, g->allow_insecure_http, &err) < 0) {
		cli_error("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	hopt.base_url = s->url;
	hopt.username = g->user ? g->user : m->username;
	if (g->password) {
		hopt.password = g->password;
	} else {
		rc = file_password(s, &pw);
		if (rc)
			return rc;
		hopt.password = pw.len ? pw.ptr : NULL;
	}
	if (hopt.username && !hopt.password) {
		cmr_buf_release(&pw);
		return cli_usage_error("no password for user '%s': use "
		                       "--password-file, CMRECON_PASSWORD or "
		                       "manager.password",
		                       hopt.username);
	}
	hopt.ca_file = g->ca_file ? g->ca_file : m->ca_file;
	hopt.insecure = g->insecure;
	hopt.allow_insecure_http = g->allow_insecure_http;
	hopt.logger = &g->logger;
	if (g->insecure)
		cli_warn(g, "--insecure: TLS certificates are NOT verified; "
		            "anyone on the network path can impersonate CM "
		            "and read the credentials");
	rc = cmr_http_transport_new(&t, &hopt, &err);
	if (pw.alloc)
		memset(pw.ptr, 0, pw.len);
	cmr_buf_release(&pw);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return CLI_EXIT_ERROR;
	}
	copt.api_version = g->api_version ? g->api_version : m->api_version;
	copt.logger = &g->logger;
	if (cmr_client_new_take(&s->client, t, &copt, &err) < 0) {
		cli_error("%s", err.msg);
		return CLI_EXIT_ERROR;
	}
	v = getenv("CMRECON_HMAC_KEY");
	if (v && *v) {
		s->hmac_key = cmr_strdup(v);
		s->hmac_key_len = s->hmac_key ? strlen(v) : 0;
	}
	return 0;
}

static int resolve_secret(struct cmr_buf *out, const struct cmr_value *ref,
                          void *ud, struct cmr_error *err)
{
	(void)ud;
	return cmr_secret_resolve(out, ref, err);
}

void session_plan_options(struct session *s, struct cmr_plan_options *opt)
{
	opt->resolve = resolve_secret;
	opt->resolve_ud = s;
	opt->hmac_key = s->hmac_key;
	opt->hmac_key_len = s->hmac_key_len;
	opt->cm_url = s->url;
}

int session_stamp_plan(struct cmr_plan *plan)
{
	unsigned char rnd[8];
	char id[17];
	char when[32];
	struct timespec ts;
	struct tm tm;
	size_t i;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
		/* Uniqueness, not secrecy: fall back on time and pid. */
		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)((unsigned long)ts.tv_nsec >>
			                                 (i * 4) ^
			                         (unsigned long)getpid() >> i);
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	plan->plan_id = cmr_arena_strdup(&plan->arena, id);
	plan->created = cmr_arena_strdup(&plan->arena, when);
	return plan->plan_id && plan->created ? 0 : CLI_EXIT_ERROR;
}

int session_write_file_mode(const char *path, const char *data, size_t len,
                            mode_t mode)
{
	struct cmr_buf tmp = CMR_BUF_INIT;
	int fd;
	int rc = CLI_EXIT_ERROR;
	size_t off = 0;

	cmr_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if (cmr_buf_error(&tmp))
		goto done;
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		cli_error("cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cli_error("cannot write '%s': %s", path,
			          strerror(errno));
			close(fd);
			unlink(tmp.ptr);
			goto done;
		}
		off += (size_t)n;
	}
	/* fchmod: the umask must not narrow a mode another reader needs */
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp.ptr, path) < 0) {
		cli_error("cannot write '%s': %s", path, strerror(errno));
		unlink(tmp.ptr);
		goto done;
	}
	rc = 0;
done:
	cmr_buf_release(&tmp);
	return rc;
}

int session_write_file(const char *path, const char *data, size_t len)
{
	return session_write_file_mode(path, data, len, 0600);
}

void session_release(struct session *s)
{
	cmr_client_free(s->client);
	cmr_state_free(s->desired);
	if (s->hmac_key) {
		memset(s->hmac_key, 0, s->hmac_key_len);
		cmr_free(s->hmac_key);
	}
	memset(s, 0, sizeof(*s));
}
