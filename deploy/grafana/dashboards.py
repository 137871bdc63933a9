#!/usr/bin/python3
"""Writes zkeep's Grafana dashboards (dashboards/*.json) from this one
description, so the three stay consistent. Edit here, then run
    deploy/grafana/dashboards.py            (rewrite dashboards/*.json)
    deploy/grafana/dashboards.py --check    (exit 1 if the JSON is stale)
The JSON is what Grafana loads (see provisioning/); every query in it is
checked against a real VictoriaMetrics by tests/host/t_monitoring_dashboards.sh.
"""
import json
import os
import sys

DS = {"type": "prometheus", "uid": "${datasource}"}
HERE = os.path.dirname(os.path.abspath(__file__))


def var_datasource():
    return {"name": "datasource", "label": "Data source", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0, "refresh": 1,
            "regex": "", "options": []}


def var_query(name, label, query, multi=True, include_all=True):
    v = {"name": name, "label": label, "type": "query", "datasource": DS,
         "definition": query, "query": {"query": query, "refId": "Var" + name},
         "refresh": 2, "sort": 1, "multi": multi, "includeAll": include_all,
         "current": {}, "hide": 0, "regex": "", "options": []}
    if include_all:
        v["allValue"] = ".*"
    return v


class Board:
    def __init__(self, uid, title, description, variables, tags=("zkeep", "zfs")):
        self.d = {"uid": uid, "title": title, "description": description,
                  "tags": list(tags), "timezone": "browser", "editable": True,
                  "graphTooltip": 1, "schemaVersion": 39, "version": 1,
                  "refresh": "1m", "time": {"from": "now-24h", "to": "now"},
                  "templating": {"list": [var_datasource()] + variables},
                  "annotations": {"list": []},
                  "links": [{"type": "dashboards", "tags": ["zkeep"], "asDropdown": True,
                             "title": "zkeep dashboards", "includeVars": True,
                             "keepTime": True}],
                  "panels": []}
        self.x = self.y = self.rowh = 0
        self.id = 0

    def _place(self, w, h):
        if self.x + w > 24:
            self.x, self.y, self.rowh = 0, self.y + self.rowh, 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.rowh = max(self.rowh, h)
        return pos

    def row(self, title):
        if self.x:
            self.x, self.y, self.rowh = 0, self.y + self.rowh, 0
        self.id += 1
        self.d["panels"].append({"id": self.id, "type": "row", "title": title, "collapsed": False,
                                 "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}, "panels": []})
        self.y += 1

    def panel(self, kind, title, exprs, w=12, h=8, unit=None, description="",
              instant=False, mappings=None, thresholds=None, options=None, minv=None, maxv=None,
              overrides=None, transformations=None):
        self.id += 1
        targets = []
        for i, e in enumerate(exprs):
            expr, legend = e if isinstance(e, tuple) else (e, "")
            t = {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr,
                 "legendFormat": legend, "range": not instant, "instant": instant}
            if kind == "table":
                t["format"] = "table"
            targets.append(t)
        defaults = {}
        if unit:
            defaults["unit"] = unit
        if mappings:
            defaults["mappings"] = mappings
        if thresholds:
            defaults["thresholds"] = {"mode": "absolute", "steps": thresholds}
            defaults["color"] = {"mode": "thresholds"}
        if minv is not None:
            defaults["min"] = minv
        if maxv is not None:
            defaults["max"] = maxv
        p = {"id": self.id, "type": kind, "title": title, "description": description,
             "datasource": DS, "gridPos": self._place(w, h), "targets": targets,
             "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
             "options": options or {}}
        if transformations:
            p["transformations"] = transformations
        self.d["panels"].append(p)

    def write(self, check):
        path = os.path.join(HERE, "dashboards", self.d["uid"] + ".json")
        text = json.dumps(self.d, indent=2, sort_keys=True) + "\n"
        if check:
            try:
                with open(path) as f:
                    if f.read() == text:
                        return True
            except FileNotFoundError:
                pass
            print("stale: " + path)
            return False
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)
        return True


def green_yellow_red(y, r):
    return [{"color": "green", "value": None}, {"color": "yellow", "value": y},
            {"color": "red", "value": r}]


HEALTH_MAP = [{"type": "value", "options": {
    "1": {"text": "ONLINE", "color": "green", "index": 0},
    "0": {"text": "NOT ONLINE", "color": "red", "index": 1}}}]
OK_MAP = [{"type": "value", "options": {
    "1": {"text": "OK", "color": "green", "index": 0},
    "0": {"text": "FAILED", "color": "red", "index": 1}}}]
YESNO_MAP = [{"type": "value", "options": {
    "1": {"text": "yes", "color": "orange", "index": 0},
    "0": {"text": "no", "color": "green", "index": 1}}}]
LEVEL_MAP = [{"type": "value", "options": {
    "1": {"text": "warning", "color": "yellow", "index": 0},
    "2": {"text": "critical", "color": "red", "index": 1}}}]
TABLE_OPTS = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
HIDE_TIME = [{"id": "organize", "options": {"excludeByName": {"Time": True, "__name__": True,
                                                              "job": True, "service": True}}}]
PIE = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
       "orientation": "auto", "textMode": "auto", "colorMode": "background",
       "graphMode": "none", "justifyMode": "auto"}
BAR = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
       "orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True}
# how long each lock has been held, 0 for a free one (the since timestamp
# exists only while it is held)
LOCK_AGE = "(time() - zfs_backup_lock_since_timestamp_seconds{%s}) or (zfs_backup_lock_held{%s} * 0)"
TS_LEGEND = {"legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull"]},
             "tooltip": {"mode": "multi", "sort": "desc"}}


def overview():
    H = 'hostname=~"$hostname"'
    b = Board("zkeep-zfs-overview", "ZFS overview",
              "The seed's six panels for every host: pool capacity and health, dataset space, "
              "top datasets, snapshot compliance by policy, snapshot counts.",
              [var_query("hostname", "Host", "label_values(zfs_pool_health, hostname)")])
    b.panel("timeseries", "Pool capacity", [("zfs_pool_capacity_percent{%s}" % H, "{{hostname}} {{pool}}")],
            unit="percent", minv=0, maxv=100, thresholds=green_yellow_red(80, 90), options=TS_LEGEND,
            description="Allocated share of each pool. Alerts above 80% (warning) and 90% "
                        "(critical): the defaults of each host's [attention] thresholds.")
    b.panel("stat", "Pool health", [("zfs_pool_health{%s}" % H, "{{hostname}} {{pool}} ({{state}})")],
            instant=True, mappings=HEALTH_MAP, thresholds=[{"color": "red", "value": None},
                                                            {"color": "green", "value": 1}],
            options=PIE, description="1 = ONLINE. The seed's alert fires after 2 minutes below 1.")
    b.panel("timeseries", "Dataset space by host",
            [('sum by (hostname) (zfs_dataset_used_bytes{%s, dataset=""})' % H, "{{hostname}}")],
            unit="bytes", options=dict(TS_LEGEND), minv=0,
            description="Space used per host: the sum of its pools' root datasets (children are "
                        "included in their parents, so summing all datasets would count twice).")
    b.panel("bargauge", "Top 10 datasets",
            [('topk(10, zfs_dataset_used_bytes{%s, dataset!=""})' % H, "{{hostname}} {{pool}}/{{dataset}}")],
            instant=True, unit="bytes", options=BAR,
            description="The ten largest datasets (used, including their snapshots and children).")
    b.panel("timeseries", "Snapshot compliance by policy",
            [("avg by (hostname, policy, interval) (zfs_snapshot_compliance_percent{%s})" % H,
              "{{hostname}} {{policy}} {{interval}}")],
            unit="percent", minv=0, options=TS_LEGEND,
            thresholds=[{"color": "red", "value": None}, {"color": "yellow", "value": 80},
                        {"color": "green", "value": 100}],
            description="Mean compliance (the seed's: count / retention, not capped, blind to "
                        "age) of the datasets of each host, policy and interval. Below 80 is the "
                        "seed's 'low'; above 100, more snapshots than the policy keeps.")
    b.panel("timeseries", "Snapshot count trends",
            [("sum by (hostname, interval) (zfs_snapshot_count{%s})" % H, "{{hostname}} {{interval}}")],
            options=TS_LEGEND, minv=0, unit="short",
            description="Snapshots per host and interval: a flat line where it should saw-tooth "
                        "means snapshot or prune stopped.")
    return b


def backups():
    H = 'hostname=~"$hostname"'
    b = Board("zkeep-backups", "ZFS backups",
              "Pull and push backups per (backup host, source, dataset, destination): age of the "
              "last good run, lag of the target, last results, bytes and duration, locks.",
              [var_query("hostname", "Backup host", "label_values(zfs_backup_last_run_timestamp_seconds, hostname)")])
    age_thr = [{"color": "green", "value": None}, {"color": "yellow", "value": 14 * 3600},
               {"color": "red", "value": 30 * 3600}]
    b.panel("table", "Last good run (age)",
            [("time() - zfs_backup_last_success_timestamp{%s}" % H, "")], w=24, h=8, instant=True,
            unit="s", thresholds=age_thr, options=TABLE_OPTS, transformations=HIDE_TIME,
            overrides=[{"matcher": {"id": "byName", "options": "Value"},
                        "properties": [{"id": "custom.cellOptions", "value": {"type": "color-background"}},
                                       {"id": "displayName", "value": "age"}]}],
            description="Since the last successful run, per job, source, dataset and destination. "
                        "ZfsBackupStale fires past 14 h for pulls, 30 h for pushes (the defaults of "
                        "the backup host's [attention] backup_age_pull and backup_age_push).")
    b.panel("timeseries", "Age of the last good run",
            [("time() - zfs_backup_last_success_timestamp{%s}" % H,
              "{{hostname}} {{source}}:{{dataset}} -> {{destination}}:{{target}}")],
            unit="s", thresholds=age_thr, options=TS_LEGEND, minv=0,
            description="A saw-tooth that resets at every good run.")
    b.panel("timeseries", "Lag: age of the newest snapshot on the target",
            [("time() - zfs_backup_newest_snapshot_timestamp_seconds{%s}" % H,
              "{{hostname}} {{source}}:{{dataset}} -> {{destination}}:{{target}}")],
            unit="s", options=TS_LEGEND, minv=0,
            description="How far behind the source the backup is: the newest snapshot the "
                        "target holds.")
    b.panel("table", "Last run results",
            [("zfs_backup_last_run_success{%s}" % H, ""),
             ("zfs_backup_last_run_timestamp_seconds{%s} * 1000" % H, ""),
             ("zfs_backup_resume_pending{%s}" % H, "")],
            w=24, h=8, instant=True, options=TABLE_OPTS,
            transformations=[{"id": "merge", "options": {}}] + HIDE_TIME,
            overrides=[
                {"matcher": {"id": "byName", "options": "Value #A"},
                 "properties": [{"id": "displayName", "value": "result"},
                                {"id": "mappings", "value": OK_MAP},
                                {"id": "custom.cellOptions", "value": {"type": "color-background"}}]},
                {"matcher": {"id": "byName", "options": "Value #B"},
                 "properties": [{"id": "displayName", "value": "last run"},
                                {"id": "unit", "value": "dateTimeFromNow"}]},
                {"matcher": {"id": "byName", "options": "Value #C"},
                 "properties": [{"id": "displayName", "value": "resume pending"},
                                {"id": "mappings", "value": YESNO_MAP}]}],
            description="The last run of each job and dataset: OK or FAILED (the run record in "
                        "`zkeep status` says why), when, and whether an interrupted receive waits "
                        "to be resumed.")
    b.panel("timeseries", "Bytes per run",
            [("zfs_backup_bytes{%s}" % H, "{{hostname}} {{source}}:{{dataset}} -> {{destination}}:{{target}}")],
            unit="bytes", options=TS_LEGEND, minv=0, description="Bytes sent by the last run.")
    b.panel("timeseries", "Duration per run",
            [("zfs_backup_duration_seconds{%s}" % H, "{{hostname}} {{source}}:{{dataset}} -> {{destination}}:{{target}}")],
            unit="s", options=TS_LEGEND, minv=0, description="Wall time of the last run.")
    b.row("Locks")
    b.panel("table", "Locks",
            [("zfs_backup_lock_held{%s}" % H, ""),
             ("zfs_backup_lock_holder_pid{%s}" % H, ""),
             (LOCK_AGE % (H, H), "")],
            w=24, h=7, instant=True, options=TABLE_OPTS,
            transformations=[{"id": "merge", "options": {}}] + HIDE_TIME,
            overrides=[
                {"matcher": {"id": "byName", "options": "Value #A"},
                 "properties": [{"id": "displayName", "value": "held"},
                                {"id": "mappings", "value": YESNO_MAP}]},
                {"matcher": {"id": "byName", "options": "Value #B"},
                 "properties": [{"id": "displayName", "value": "holder pid"}]},
                {"matcher": {"id": "byName", "options": "Value #C"},
                 "properties": [{"id": "displayName", "value": "held for"}, {"id": "unit", "value": "s"},
                                {"id": "thresholds", "value": {"mode": "absolute", "steps":
                                                               green_yellow_red(6 * 3600, 12 * 3600)}},
                                {"id": "custom.cellOptions", "value": {"type": "color-background"}}]}],
            description="zkeep's pull/push locks (kind, remote host): held or not, the holder's "
                        "pid, for how long (0 when free). "
                        "ZkeepLockHeldLong fires after 12 h.")
    return b


def host():
    H = 'hostname="$hostname"'
    b = Board("zkeep-host", "ZFS host",
              "Everything about one host (the `hostname` variable): pools, scrubs and errors, "
              "datasets, snapshots, backups it runs, locks, the exporter.",
              [var_query("hostname", "Host", "label_values(zfs_pool_health, hostname)",
                         multi=False, include_all=False),
               var_query("pool", "Pool", 'label_values(zfs_pool_health{hostname="$hostname"}, pool)')])
    P = H + ', pool=~"$pool"'
    b.row("Needs attention")
    b.panel("table", "Needs attention",
            [("zkeep_attention_state{%s} > 0" % H, "")], w=24, h=6, instant=True,
            mappings=LEVEL_MAP, options=TABLE_OPTS,
            transformations=[{"id": "organize", "options": {
                "excludeByName": {"Time": True, "__name__": True, "job": True, "service": True,
                                  "instance": True, "hostname": True},
                "indexByName": {"kind": 0, "object": 1, "check": 2, "Value": 3},
                "renameByName": {"Value": "level"}}}],
            overrides=[{"matcher": {"id": "byName", "options": "level"},
                        "properties": [{"id": "custom.cellOptions", "value": {"type": "color-background"}}]}],
            description="What zkeep's one attention rule finds on this host (the [attention] "
                        "thresholds of its zkeep.conf): the same list `zkeep status` prints and "
                        "exits with (0 ok, 1 warning, 2 critical) and the /ui/ page shows at the "
                        "top; the alert rules fire on it. Empty when all is well.")
    b.row("Pools")
    b.panel("stat", "Pool state", [("zfs_pool_state{%s} == 1" % P, "{{pool}}: {{state}}")], w=8, h=6,
            instant=True, options=dict(PIE, textMode="name"),
            thresholds=[{"color": "green", "value": None}],
            description="The pool's state (one-hot zfs_pool_state); anything but ONLINE fires "
                        "ZfsPoolNotOnline.")
    b.panel("bargauge", "Capacity", [("zfs_pool_capacity_percent{%s}" % P, "{{pool}}")], w=8, h=6,
            instant=True, unit="percent", minv=0, maxv=100, thresholds=green_yellow_red(80, 90),
            options=BAR)
    b.panel("stat", "Last scan finished", [("zfs_pool_scan_end_timestamp_seconds{%s} * 1000" % P, "{{pool}} {{type}}")],
            w=8, h=6, instant=True, unit="dateTimeFromNow", options=dict(PIE, colorMode="none"),
            description="zpool status shows the last scan only (scrub or resilver). "
                        "ZfsPoolScrubOverdue fires after 35 days without a finished scrub.")
    b.panel("timeseries", "Pool space", [("zfs_pool_allocated_bytes{%s}" % P, "{{pool}} allocated"),
                                         ("zfs_pool_size_bytes{%s}" % P, "{{pool}} size")],
            unit="bytes", options=TS_LEGEND, minv=0)
    b.panel("timeseries", "Free space and 7-day forecast",
            [("zfs_pool_free_bytes{%s}" % P, "{{pool}} free"),
             ("predict_linear(zfs_pool_free_bytes{%s}[2d], 7 * 86400)" % P, "{{pool}} in 7 days")],
            unit="bytes", options=TS_LEGEND,
            description="The forecast is the ZfsPoolFullIn7Days rule's expression: below 0 it fires.")
    b.panel("table", "Device errors",
            [("zfs_vdev_read_errors{%s}" % P, ""), ("zfs_vdev_write_errors{%s}" % P, ""),
             ("zfs_vdev_checksum_errors{%s}" % P, "")],
            w=12, instant=True, options=TABLE_OPTS,
            transformations=[{"id": "merge", "options": {}}] + HIDE_TIME,
            overrides=[{"matcher": {"id": "byName", "options": "Value #%s" % k},
                        "properties": [{"id": "displayName", "value": n}]}
                       for k, n in (("A", "read errors"), ("B", "write errors"), ("C", "checksum errors"))],
            description="Per vdev, since the last zpool clear: the columns of zpool status.")
    b.panel("table", "Last scan",
            [("zfs_pool_scan_state{%s} == 1" % P, ""), ("zfs_pool_scan_errors{%s}" % P, ""),
             ("zfs_pool_fragmentation_percent{%s}" % P, "")],
            w=12, instant=True, options=TABLE_OPTS,
            transformations=[{"id": "merge", "options": {}}] + HIDE_TIME,
            overrides=[{"matcher": {"id": "byName", "options": "Value #%s" % k},
                        "properties": [{"id": "displayName", "value": n}]}
                       for k, n in (("A", "scan (1)"), ("B", "errors found"), ("C", "fragmentation %"))],
            description="The last or running scan of each pool (type scrub/resilver/none, state "
                        "finished/in_progress/canceled/paused), the errors it found, and the "
                        "pool's fragmentation.")
    b.row("Datasets and snapshots")
    b.panel("table", "Datasets",
            [('zfs_dataset_used_bytes{%s}' % P, ""), ('zfs_dataset_available_bytes{%s}' % P, ""),
             ('zfs_dataset_referenced_bytes{%s}' % P, "")],
            w=24, h=9, instant=True, options=TABLE_OPTS,
            transformations=[{"id": "merge", "options": {}}] + HIDE_TIME,
            overrides=[{"matcher": {"id": "byName", "options": "Value #%s" % k},
                        "properties": [{"id": "displayName", "value": n}, {"id": "unit", "value": "bytes"}]}
                       for k, n in (("A", "used"), ("B", "available"), ("C", "referenced"))])
    b.panel("table", "Snapshot compliance",
            [("zfs_snapshot_compliance_percent{%s}" % P, ""), ("zfs_snapshot_count{%s}" % P, ""),
             ("zfs_snapshot_retention{%s}" % P, ""),
             ("time() - zfs_snapshot_newest_timestamp_seconds{%s}" % P, "")],
            w=24, h=10, instant=True, options=TABLE_OPTS,
            transformations=[{"id": "merge", "options": {}}] + HIDE_TIME,
            overrides=[
                {"matcher": {"id": "byName", "options": "Value #A"},
                 "properties": [{"id": "displayName", "value": "compliance"}, {"id": "unit", "value": "percent"},
                                {"id": "thresholds", "value": {"mode": "absolute", "steps": [
                                    {"color": "red", "value": None}, {"color": "yellow", "value": 80},
                                    {"color": "green", "value": 100}]}},
                                {"id": "custom.cellOptions", "value": {"type": "color-background"}}]},
                {"matcher": {"id": "byName", "options": "Value #B"},
                 "properties": [{"id": "displayName", "value": "count"}]},
                {"matcher": {"id": "byName", "options": "Value #C"},
                 "properties": [{"id": "displayName", "value": "retention"}]},
                {"matcher": {"id": "byName", "options": "Value #D"},
                 "properties": [{"id": "displayName", "value": "newest age"}, {"id": "unit", "value": "s"}]}],
            description="Per dataset and interval: compliance (count and age), count against "
                        "retention, age of the newest snapshot (stale past two intervals).")
    b.panel("timeseries", "Snapshot counts", [("sum by (interval) (zfs_snapshot_count{%s})" % P, "{{interval}}")],
            options=TS_LEGEND, minv=0)
    b.panel("timeseries", "Last snapshot created",
            [("time() - zfs_snapshot_last_created_timestamp{%s}" % P, "{{pool}}/{{dataset}}")],
            unit="s", options=TS_LEGEND, minv=0, description="Age of each dataset's newest snapshot of any kind.")
    b.row("Backups run here, locks, exporter")
    b.panel("table", "Backups",
            [("time() - zfs_backup_last_success_timestamp{%s}" % H, ""),
             ("zfs_backup_last_run_success{%s}" % H, ""),
             ("time() - zfs_backup_newest_snapshot_timestamp_seconds{%s}" % H, "")],
            w=24, h=7, instant=True, options=TABLE_OPTS,
            transformations=[{"id": "merge", "options": {}}] + HIDE_TIME,
            overrides=[
                {"matcher": {"id": "byName", "options": "Value #A"},
                 "properties": [{"id": "displayName", "value": "last good run"}, {"id": "unit", "value": "s"}]},
                {"matcher": {"id": "byName", "options": "Value #B"},
                 "properties": [{"id": "displayName", "value": "last result"},
                                {"id": "mappings", "value": OK_MAP},
                                {"id": "custom.cellOptions", "value": {"type": "color-background"}}]},
                {"matcher": {"id": "byName", "options": "Value #C"},
                 "properties": [{"id": "displayName", "value": "target lag"}, {"id": "unit", "value": "s"}]}],
            description="Backup jobs this host runs (pull on a backup server, push to offsite). "
                        "Empty on hosts that run none.")
    b.panel("table", "Locks",
            [("zfs_backup_lock_held{%s}" % H, ""), ("zfs_backup_lock_holder_pid{%s}" % H, ""),
             (LOCK_AGE % (H, H), "")],
            w=12, h=6, instant=True, options=TABLE_OPTS,
            transformations=[{"id": "merge", "options": {}}] + HIDE_TIME,
            overrides=[{"matcher": {"id": "byName", "options": "Value #%s" % k},
                        "properties": [{"id": "displayName", "value": n}] + u}
                       for k, n, u in (("A", "held", [{"id": "mappings", "value": YESNO_MAP}]),
                                       ("B", "holder pid", []),
                                       ("C", "held for", [{"id": "unit", "value": "s"}]))])
    b.panel("timeseries", "Exporter",
            [("zkeep_api_view_age_seconds{%s}" % H, "view age"),
             ("zkeep_api_collect_duration_seconds{%s}" % H, "collection time"),
             ("zkeep_api_collect_success{%s}" % H, "collection ok (1)")],
            w=12, h=6, unit="s", options=TS_LEGEND,
            description="zkeep api's own health: how old the served view is, how long collection "
                        "takes, and whether it succeeded (1).")
    return b


def main():
    check = sys.argv[1:] == ["--check"]
    ok = True
    for b in (overview(), backups(), host()):
        ok = b.write(check) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
