#!/usr/bin/python3
"""Synthetic series for the rule and dashboard tests: what VictoriaMetrics
would hold after scraping zkeep api on a small fleet for HOURS hours up to
END (unix seconds), one sample every STEP seconds, labelled as the shipped
scrape config labels them (job=zfs, service=zfs-api, instance, backup_job),
with the names and labels of the api branch's lib/metrics.c.
This is sample data, NOT the live exporter: the live test, t_monitoring_live.sh, scrapes zkeep api.

  sample-data.py END HOURS STEP > data.prom   (Prometheus text, ms timestamps)

The scenario (each alert's expected outcome is in expected-alerts.txt):
  nas1     fastpool ONLINE, 50% full but filling (free space falls 1 TB in
           14 h, 5 TB left: full within 7 days), scrubbed a day ago.
           tank DEGRADED, 85% full, scrub 40 days ago with 3 errors,
           2 checksum errors on its disk sdb.
           cold ONLINE, last scan a resilver 2 days ago (no scrub known).
           fastpool/home (high): fresh hourly/daily snapshots, 100%.
           fastpool/data (high): newest hourly 5 h old, compliance 40%.
           fastpool/scratch (low): yearly retention 0 with no snapshot.
  backup1  slowpool ONLINE 30%, a scrub running; rpool never scanned.
           pull job nas1: home fresh, data last success 20 h ago;
           push job offsite: home last run failed (last success 25 h
           ago, within the push allowance), resume token pending for 13 h;
           pull lock for nas1 held for 13 h, push lock for offsite1 for 1 h.
           collector failing, view 2000 s old.
  offsite1 not scrapable (up 0).
  gone1    scraped until 2 h before END, then nothing.
  empty1   scraped (up 1) but exports no pool metrics.
  old1     still the old zfs-api (a host not yet switched over): only the
           old series, no attention rule; rpool 95% full, tank 85%,
           rpool/data hourly compliance 50%: the rules' fixed thresholds
           must still fire for it.
Every host that exports pools also exports zkeep's attention rule
(zkeep_attention_state per object and check, zkeep_attention_threshold),
computed here from the same facts with the default [attention] thresholds,
as lib/attention.c decides them at each collection.
"""
import sys

END = int(sys.argv[1])
HOURS = float(sys.argv[2])
STEP = int(sys.argv[3])
START = END - int(HOURS * 3600)
H, D = 3600, 86400
TB = 10**12

out = sys.stdout


# [attention]'s defaults (zkeep-status(1)), as zkeep_attention_threshold
THRESHOLDS = {"pool_capacity_warning": 80, "pool_capacity_critical": 90, "snapshot_compliance": 80,
              "backup_age_pull": 14 * 3600, "backup_age_push": 30 * 3600, "pool_unhealthy": 2,
              "pool_errors": 1, "snapshot_stale": 1, "dataset_missing": 1, "backup_failed": 1}
INTERVAL = {"hourly": 3600, "daily": 86400, "monthly": 31 * 86400, "yearly": 366 * 86400}


def lab(d):
    return ",".join('%s="%s"' % (k, v) for k, v in d.items())


def emit(name, labels, value, t):
    out.write("%s{%s} %s %d\n" % (name, lab(labels), repr(float(value)), t * 1000))


def host(h):
    return {"job": "zfs", "instance": h + ":8000", "service": "zfs-api", "hostname": h}


def attention(h, kind, obj, checks, t):
    for check, level in checks.items():
        emit("zkeep_attention_state", dict(host(h), kind=kind, object=obj, check=check), level, t)


def thresholds(h, t):
    for name, v in THRESHOLDS.items():
        emit("zkeep_attention_threshold", dict(host(h), name=name), v, t)


def pool(h, p, t, state, size, alloc, frag, scan, cksum, vdevs=("mirror-0", "sda", "sdb")):
    # scan: (type, state, end, errors) as zkeep api reads the "scan:" line;
    # type/state "none" when the pool was never scanned
    b = dict(host(h), pool=p)
    emit("zfs_pool_health", dict(b, state=state), 1 if state == "ONLINE" else 0, t)
    for s in ("ONLINE", "DEGRADED", "FAULTED", "OFFLINE", "UNAVAIL", "REMOVED", "SUSPENDED"):
        emit("zfs_pool_state", dict(b, state=s), 1 if s == state else 0, t)
    emit("zfs_pool_size_bytes", b, size, t)
    emit("zfs_pool_allocated_bytes", b, alloc, t)
    emit("zfs_pool_free_bytes", b, size - alloc, t)
    emit("zfs_pool_dataset_available_bytes", b, int((size - alloc) * 0.97), t)
    emit("zfs_pool_capacity_percent", b, int(alloc * 100 / size), t)
    emit("zfs_pool_fragmentation_percent", b, frag, t)
    stype, sstate, send, serr = scan
    emit("zfs_pool_scan_state", dict(b, type=stype, state=sstate), 1, t)
    if send:
        emit("zfs_pool_scan_end_timestamp_seconds", dict(b, type=stype), send, t)
    if serr is not None:
        emit("zfs_pool_scan_errors", dict(b, type=stype), serr, t)
    for v in (p,) + tuple(vdevs):
        vb = dict(b, vdev=v)
        emit("zfs_vdev_read_errors", vb, 0, t)
        emit("zfs_vdev_write_errors", vb, 0, t)
        emit("zfs_vdev_checksum_errors", vb, cksum if v == vdevs[-1] else 0, t)
    cap = int(alloc * 100 / size)
    attention(h, "pool", p, {
        "health": 0 if state == "ONLINE" else THRESHOLDS["pool_unhealthy"],
        "errors": THRESHOLDS["pool_errors"] if cksum or (serr or 0) > 0 else 0,
        "capacity": 2 if cap > THRESHOLDS["pool_capacity_critical"]
        else 1 if cap > THRESHOLDS["pool_capacity_warning"] else 0}, t)


def dataset(h, p, ds, t, used, avail, ref):
    b = dict(host(h), pool=p, dataset=ds)
    emit("zfs_dataset_used_bytes", b, used, t)
    emit("zfs_dataset_available_bytes", b, avail, t)
    emit("zfs_dataset_referenced_bytes", b, ref, t)


def snaps(h, p, ds, policy, t, per_interval, last_created, total):
    # per_interval: interval -> (count, retention, compliance, newest, oldest);
    # newest/oldest None when there is no snapshot (the api omits them then)
    for iv, (count, ret, comp, newest, oldest) in per_interval.items():
        b = dict(host(h), pool=p, dataset=ds, policy=policy, interval=iv)
        emit("zfs_snapshot_count", b, count, t)
        emit("zfs_snapshot_retention", b, ret, t)
        emit("zfs_snapshot_compliance_percent", b, comp, t)
        emit("zfs_snapshot_compliant", b, 1 if comp >= 100 else 0, t)
        if newest is not None:
            emit("zfs_snapshot_newest_timestamp_seconds", b, newest, t)
            emit("zfs_snapshot_oldest_timestamp_seconds", b, oldest, t)
    live = [v for v in per_interval.items() if v[1][1] > 0]
    low = any(comp < THRESHOLDS["snapshot_compliance"] for _, (_, _, comp, _, _) in live)
    stale = any(newest is not None and t - newest >= 2 * INTERVAL[iv] for iv, (_, _, _, newest, _) in live)
    attention(h, "snapshots", p + ("/" + ds if ds else ""), {
        "compliance": 1 if low else 0, "stale": THRESHOLDS["snapshot_stale"] if stale else 0,
        "missing": 0}, t)
    emit("zfs_snapshot_last_created_timestamp", dict(host(h), pool=p, dataset=ds), last_created, t)
    emit("zfs_dataset_snapshots", dict(host(h), pool=p, dataset=ds), total, t)


def backup(h, bjob, kind, src, ds, dst, target, t, last_ok, last_run, ok, dur, nbytes, newest, resume):
    # labels as zkeep api writes them, after the scrape config's rename of
    # the exporter's `job` to backup_job; last_ok None: never succeeded
    b = dict(host(h), backup_job=bjob, kind=kind, source=src, dataset=ds, destination=dst, target=target)
    if last_ok is not None:
        emit("zfs_backup_last_success_timestamp", b, last_ok, t)
    emit("zfs_backup_last_run_timestamp_seconds", b, last_run, t)
    emit("zfs_backup_last_run_success", b, 1 if ok else 0, t)
    emit("zfs_backup_duration_seconds", b, dur, t)
    emit("zfs_backup_bytes", b, nbytes, t)
    emit("zfs_backup_newest_snapshot_timestamp_seconds", b, newest, t)
    emit("zfs_backup_resume_pending", b, resume, t)
    old = last_ok is not None and t - last_ok > THRESHOLDS["backup_age_" + kind]
    attention(h, "backup", bjob + ":" + ds, {
        "age": 2 if old else 0, "failed": 0 if ok else THRESHOLDS["backup_failed"]}, t)


def lock(h, kind, lhost, t, held, since, pid):
    b = dict(host(h), kind=kind, host=lhost)
    emit("zfs_backup_lock_held", b, held, t)
    if held:
        emit("zfs_backup_lock_holder_pid", b, pid, t)
        emit("zfs_backup_lock_since_timestamp_seconds", b, since, t)


def exporter(h, t, ok, age, dur):
    emit("zkeep_api_collect_success", host(h), ok, t)
    emit("zkeep_api_view_age_seconds", host(h), age, t)
    emit("zkeep_api_collect_duration_seconds", host(h), dur, t)
    emit("zkeep_api_collect_last_success_timestamp_seconds", host(h), t - age if ok else t - 3 * H, t)


def up(h, t, v):
    emit("up", {"job": "zfs", "instance": h + ":8000", "service": "zfs-api"}, v, t)


t = START
while t <= END:
    frac = (t - START) / (END - START)
    hour = t - t % H
    day = t - t % D
    # nas1
    up("nas1", t, 1)
    pool("nas1", "fastpool", t, "ONLINE", 10 * TB, int(5 * TB + frac * TB), 12,
         ("scrub", "finished", END - D, 0), 0)
    pool("nas1", "tank", t, "DEGRADED", 4 * TB, int(3.4 * TB), 30,
         ("scrub", "finished", END - 40 * D, 3), 2)
    pool("nas1", "cold", t, "ONLINE", 4 * TB, int(0.4 * TB), 1,
         ("resilver", "finished", END - 2 * D, 0), 0)
    dataset("nas1", "fastpool", "", t, int(5 * TB + frac * TB), int(5 * TB - frac * TB), 100 * 2**10)
    dataset("nas1", "fastpool", "home", t, int(3 * TB + frac * 0.5 * TB), int(5 * TB - frac * TB), int(2.5 * TB))
    dataset("nas1", "fastpool", "data", t, int(2 * TB + frac * 0.48 * TB), int(5 * TB - frac * TB), int(1.2 * TB))
    dataset("nas1", "fastpool", "scratch", t, 5 * 2**30, int(5 * TB - frac * TB), 5 * 2**30)
    dataset("nas1", "tank", "", t, int(3.4 * TB), int(0.5 * TB), 2**20)
    dataset("nas1", "tank", "media", t, int(3.3 * TB), int(0.5 * TB), int(3.3 * TB))
    dataset("nas1", "cold", "", t, int(0.4 * TB), int(3.4 * TB), int(0.4 * TB))
    snaps("nas1", "fastpool", "home", "high", t, {
        "hourly": (24, 24, 100, hour, hour - 23 * H),
        "daily": (14, 14, 100, day, day - 13 * D),
        "monthly": (1, 1, 100, END - 20 * D, END - 20 * D),
        "yearly": (1, 1, 100, END - 200 * D, END - 200 * D)}, hour, 40)
    snaps("nas1", "fastpool", "data", "high", t, {
        "hourly": (10, 24, 40, END - 5 * H, END - 15 * H),
        "daily": (14, 14, 100, day, day - 13 * D),
        "monthly": (1, 1, 100, END - 20 * D, END - 20 * D),
        "yearly": (1, 1, 100, END - 200 * D, END - 200 * D)}, END - 5 * H, 26)
    snaps("nas1", "fastpool", "scratch", "low", t, {
        "hourly": (3, 3, 100, hour, hour - 2 * H),
        "daily": (7, 7, 100, day, day - 6 * D),
        "monthly": (1, 1, 100, END - 20 * D, END - 20 * D),
        "yearly": (0, 0, 100, None, None)}, hour, 11)
    exporter("nas1", t, 1, 40, 0.8)
    thresholds("nas1", t)
    # backup1
    up("backup1", t, 1)
    pool("backup1", "slowpool", t, "ONLINE", 8 * TB, int(2.4 * TB), 3,
         ("scrub", "in_progress", 0, None), 0)
    pool("backup1", "rpool", t, "ONLINE", TB, int(0.1 * TB), 3, ("none", "none", 0, None), 0)
    dataset("backup1", "slowpool", "backups/nas1/fastpool/home", t, int(0.7 * TB), int(5 * TB), int(0.5 * TB))
    dataset("backup1", "slowpool", "backups/nas1/fastpool/data", t, int(0.3 * TB), int(5 * TB), int(0.2 * TB))
    last_pull = t - (t % (2 * H))  # runs every 2 h here, always good
    backup("backup1", "nas1", "pull", "nas1", "fastpool/home", "backup1", "slowpool/backups/nas1/fastpool/home", t,
           last_pull, last_pull, True, 95, 3 * 2**30 + int(frac * 2**30), hour - H, 0)
    backup("backup1", "nas1", "pull", "nas1", "fastpool/data", "backup1", "slowpool/backups/nas1/fastpool/data", t,
           END - 20 * H, last_pull, True, 40, 2**28, END - 20 * H, 0)
    backup("backup1", "offsite", "push", "backup1", "slowpool/backups/nas1/fastpool/home", "offsite1",
           "fastpool/backups/raw/nas1/fastpool/home", t,
           END - 25 * H, END - 13 * H, False, 700, 0, END - 26 * H, 1)
    lock("backup1", "pull", "nas1", t, 1, END - 13 * H, 4242)
    lock("backup1", "push", "offsite1", t, 1 if t >= END - H else 0, END - H, 4343)
    exporter("backup1", t, 0, 2000, 1.5)
    thresholds("backup1", t)
    # the others
    up("offsite1", t, 0)
    if t <= END - 2 * H:
        up("gone1", t, 1)
        pool("gone1", "rpool", t, "ONLINE", TB, int(0.2 * TB), 1, ("scrub", "finished", END - 3 * D, 0), 0)
        exporter("gone1", t, 1, 30, 0.5)
        thresholds("gone1", t)
    up("empty1", t, 1)
    up("old1", t, 1)
    for p, cap in (("rpool", 95), ("tank", 85)):
        emit("zfs_pool_health", dict(host("old1"), pool=p, state="ONLINE"), 1, t)
        emit("zfs_pool_capacity_percent", dict(host("old1"), pool=p), cap, t)
        emit("zfs_pool_free_bytes", dict(host("old1"), pool=p), (100 - cap) * TB // 100, t)
    emit("zfs_snapshot_compliance_percent",
         dict(host("old1"), pool="rpool", dataset="data", policy="high", interval="hourly"), 50, t)
    t += STEP
