/*
 * events.c -- what an apply tells: progress events and the journal.
 *
 * Every step of an apply is an event (struct cmr_exec_event): it goes to
 * the logger at debug level, to the caller's progress callback (the CLI's
 * live view, `apply --json`), and -- except the frequent wait events --
 * to the journal, an append-only file fsynced line by line, so that the
 * next run (or a person) can see how far an interrupted apply got.  The
 * journal and `apply --json` describe an event with the same JSON
 * members (cmr_exec_event_json), so the two never drift apart.
 *
 * Lanes emit from their own threads; one mutex keeps events whole and in
 * one order in every sink.  Messages never hold a secret: callers build
 * them from names, keys and CM's messages only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmr/buf.h"

#include "exec_int.h"

const char *cmr_exec_event_name(enum cmr_exec_event_kind k)
{
	switch (k) {
	case CMR_EXEC_EV_STEP:
		return "step";
	case CMR_EXEC_EV_DONE:
		return "done";
	case CMR_EXEC_EV_SKIP:
		return "skip";
	case CMR_EXEC_EV_WAIT:
		return "wait";
	case CMR_EXEC_EV_WARN:
		return "warning";
	case CMR_EXEC_EV_FAIL:
		return "failed";
	}
	return "?";
}

int cmr_exec_event_json(struct cmr_buf *out, const struct cmr_exec_event *ev)
{
	cmr_buf_adds(out, "\"event\":");
	cmr_buf_add_json_str(out, cmr_exec_event_name(ev->kind));
	cmr_buf_adds(out, ",\"phase\":");
	cmr_buf_add_json_str(out, ev->phase);
	cmr_buf_adds(out, ",\"target\":");
	cmr_buf_add_json_str(out, ev->target);
	if (ev->command_id >= 0)
		cmr_buf_addf(out, ",\"command_id\":%lld",
		             (long long)ev->command_id);
	cmr_buf_addf(out, ",\"elapsed_ms\":%lld,\"message\":",
	             (long long)ev->elapsed_ms);
	cmr_buf_add_json_str(out, ev->message);
	return cmr_buf_error(out);
}

void cmr_exec__iso_time(char *out, size_t cap, int64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	char base[32];

	memset(&tm, 0, sizeof(tm));
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%03dZ", base, (int)(wall_ms % 1000));
}

int cmr_exec__events_init(struct cmr_exec__events *ev,
                          const struct cmr_plan *plan,
                          const struct cmr_exec_options *opt,
                          struct cmr_clock *clock, struct cmr_error *err)
{
	memset(ev, 0, sizeof(*ev));
	ev->journal_fd = -1;
	ev->plan_id = plan->plan_id ? plan->plan_id : "";
	ev->progress = opt->progress;
	ev->progress_ud = opt->progress_ud;
	ev->logger = opt->logger;
	ev->clock = clock;
	ev->start = clock->now_ms(clock);
	if (pthread_mutex_init(&ev->mu, NULL) != 0)
		return cmr_error_set(err, CMR_ENOMEM,
		                     "cannot make a mutex for the events");
	return 0;
}

void cmr_exec__events_open_journal(struct cmr_exec__events *ev,
                                   const char *path)
{
	if (!path)
		return;
	ev->journal_fd =
	        open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (ev->journal_fd < 0)
		cmr_exec__emit(ev, CMR_EXEC_EV_WARN, "journal", "", -1,
		               "cannot open the journal '%s': %s; going on "
		               "without one",
		               path, strerror(errno));
}

void cmr_exec__events_release(struct cmr_exec__events *ev)
{
	if (ev->journal_fd >= 0)
		close(ev->journal_fd);
	ev->journal_fd = -1;
	pthread_mutex_destroy(&ev->mu);
}

/* One journal line, written whole and fsynced (under ev->mu). */
static void journal_line(struct cmr_exec__events *ev,
                         const struct cmr_exec_event *e)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char when[40];
	size_t off = 0;

	if (ev->journal_fd < 0)
		return;
	cmr_exec__iso_time(when, sizeof(when), ev->clock->wall_ms(ev->clock));
	cmr_buf_adds(&b, "{\"time\":");
	cmr_buf_add_json_str(&b, when);
	cmr_buf_adds(&b, ",\"plan\":");
	cmr_buf_add_json_str(&b, ev->plan_id);
	cmr_buf_addc(&b, ',');
	cmr_exec_event_json(&b, e);
	cmr_buf_adds(&b, "}\n");
	if (cmr_buf_error(&b) == 0) {
		while (off < b.len) {
			ssize_t n =
			        write(ev->journal_fd, b.ptr + off, b.len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		(void)fsync(ev->journal_fd);
	}
	cmr_buf_release(&b);
}

void cmr_exec__emit(struct cmr_exec__events *ev, enum cmr_exec_event_kind kind,
                    const char *phase, const char *target, int64_t command_id,
                    const char *fmt, ...)
{
	struct cmr_exec_event e;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e.kind = kind;
	e.phase = phase;
	e.target = target ? target : "";
	e.message = msg;
	e.command_id = command_id;
	e.elapsed_ms = ev->clock->now_ms(ev->clock) - ev->start;
	cmr_log(ev->logger, CMR_LOG_DEBUG, "exec", "%s %s %s: %s",
	        cmr_exec_event_name(kind), phase, e.target, msg);
	pthread_mutex_lock(&ev->mu);
	if (kind != CMR_EXEC_EV_WAIT)
		journal_line(ev, &e);
	if (ev->progress)
		ev->progress(&e, ev->progress_ud);
	pthread_mutex_unlock(&ev->mu);
}
