/*
 * Running pull and push jobs: for each, the remote host (one shared ssh
 * connection in a private directory), the job's lock on the seed's path,
 * repl_run and its summary; several jobs up to a bound at a time, each in
 * its own process, jobs that share a lock one after the other; and the
 * signals that end a run (passed to the job processes; each drops its
 * lock). cmd/replicate.c turns argv and the config into job_specs.
 *
 * Errors: jobs_run logs every failure itself and returns how the run
 * went; only cmd/ turns that into an exit code.
 */
#ifndef ZK_JOBS_H
#define ZK_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mqtt.h"
#include "strvec.h"

/* A pull's MQTT state (seed-system.md 9), published by each job's process
 * after its replication ran: not when the job stopped before (its lock
 * held, a bad host), nor in a dry run. A publishing failure is logged and
 * changes no result. */
struct jobs_mqtt {
	struct mqtt_broker broker;
	const char *topic_prefix; /* P */
	const char *name;         /* M for every job; NULL: each job's name */
	bool on_failure;          /* also after a failed run (ok false); the seed
	                           * published after a fully successful pull only */
};

/* What a run's jobs share (flags and [global]). */
struct jobs_opts {
	bool push;
	bool dry_run, force, full_newest, progress;
	const char *lock_dir;         /* the lock files' directory */
	const char *state_dir;        /* run records; not written where it is not writable */
	const char *prefix;           /* the policy snapshot prefix (for keep) */
	int wait_s;                   /* for the lock: 0 none, -1 for ever */
	int stall_s;                  /* give up on a stream idle this long */
	int zfs_timeout_s;            /* every non-streaming zfs/ssh call */
	int jobs;                     /* job processes at once */
	int parallel;                 /* --parallel: datasets at once in each job, 0: the job's */
	const struct jobs_mqtt *mqtt; /* pulls: publish their state; NULL: not */
};

/* One job: the remote side and what to do there. name keys its run record
 * and hold tag (and, for a pull, its target's D/<name>/); lock keys its lock
 * file (config_job_lock_key; with --host, the name), so that two [push]
 * sections to one offsite host take turns but keep their own records. */
struct job_spec {
	const char *name, *lock, *host, *user, *identity, *destination, *strip;
	int port;
	const struct strvec *datasets;
	const struct strvec *ssh_options; /* [pull]/[push] ssh_options, or NULL */
	uint64_t bwlimit;
	int parallel; /* datasets at once ([pull]/[push] parallel), 0: one */
	bool restricted;
	bool allow_unencrypted; /* push: [push] allow_unencrypted */
	const int *keep;        /* NULL: no retention on the target */
	/* what the run tells at its end (lib/notify), NULL: nothing */
	const struct zk_notify_cfg *notify;
};

enum jobs_result {
	JOBS_OK,     /* every job ran and replicated all (or found its lock held) */
	JOBS_FAILED, /* a job or a dataset failed */
	JOBS_USAGE,  /* a job's host or user is not valid */
};

/* The most job processes at once. */
#define JOBS_MAX 64

/* SIGTERM, SIGINT and SIGHUP end the run: passed on to the job processes,
 * the lock held here dropped, exit 1. The zfs children see their pipes
 * break and the receive is abandoned (or left resumable), never half
 * applied. */
void jobs_catch_signals(void);

/* Runs the n jobs, up to o->jobs at a time (one job: in this process). */
enum jobs_result jobs_run(const struct jobs_opts *o, const struct job_spec *specs, size_t n);

#endif
