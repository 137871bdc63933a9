#!/usr/bin/env python3
"""Contract check of a running zkeep api: every path of the OpenAPI document
it serves, each JSON body validated with a real JSON Schema validator
against docs/schema (one schema per endpoint, made from that document; see
api_schema.py), and the content compared with what zfs and zpool say on
this host. Used by t_api.sh.

usage: api_check.py BASE_URL POOL WORKDIR [API_KEY]
"""
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

base, pool, work = sys.argv[1], sys.argv[2], sys.argv[3]
key = sys.argv[4] if len(sys.argv) > 4 else None
HUMAN = re.compile(r"^\d+\.\d{2} (B|KB|MB|GB|TB|PB|EB)$")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def get(path, want=200, raw=False):
    req = urllib.request.Request(base + urllib.parse.quote(path, safe="/?=&_"))
    if key:
        req.add_header("X-API-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, body, ctype = r.status, r.read(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        status, body, ctype = e.code, e.read(), e.headers.get("Content-Type")
    if status != want:
        fail("GET %s: status %d, want %d: %s" % (path, status, want, body[:300]))
    if raw:
        return body.decode()
    if not ctype.startswith("application/json"):
        fail("GET %s: content type %s" % (path, ctype))
    return json.loads(body)


doc = get("/api/openapi.json")
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import api_schema  # noqa: E402

# tests/run puts docs/schema next to it/ in the VM; the repository's in a checkout
schema_dir = next(d for d in (os.path.join(here, "..", "schema"),
                              os.path.join(here, "..", "..", "docs", "schema"))
                  if os.path.isfile(os.path.join(d, "index.json")))
schemas = api_schema.Schemas(schema_dir)
if json.load(open(os.path.join(schema_dir, "index.json"))).keys() != \
        {p for p, v in doc["paths"].items() if any(
            "schema" in r.get("content", {}).get("application/json", {})
            for r in v["get"]["responses"].values())}:
    fail("docs/schema/index.json does not list the served document's JSON paths")


checked = set()


def api(template, path, want=200):
    body = get(path, want)
    why = schemas.check(template, want, body)
    if why:
        fail(why)
    checked.add(template)
    return body


def zfs(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


# pools, against zpool list
zp = {l.split("\t")[0]: l.split("\t") for l in zfs("zpool", "list", "-Hp", "-o",
      "name,size,allocated,free,fragmentation,capacity,health").splitlines()}
pools = api("/api/v1/pools", "/api/v1/pools")
if pools["count"] != len(zp) or {p["name"] for p in pools["pools"]} != set(zp):
    fail("pools: %s vs zpool list %s" % (pools, zp))
p = api("/api/v1/pools/{pool}", "/api/v1/pools/" + pool)
z = zp[pool]
if p["health"] != z[6] or p["size_bytes"] != int(z[1]) or p["capacity_percent"] != int(z[5]):
    fail("pool %s: %s vs %s" % (pool, p, z))
for f in ("size_human", "allocated_human", "free_human"):
    if not HUMAN.match(p[f]):
        fail("pool %s: %s = %r" % (pool, f, p[f]))
if p["size_bytes"] == 1024 ** 3 * 0:
    fail("pool size 0")
api("/api/v1/pools/{pool}", "/api/v1/pools/nope", 404)
st = api("/api/v1/pools/{pool}/status", "/api/v1/pools/%s/status" % pool)
if st["state"] != "ONLINE" or st["config"][0]["name"] != pool or pool not in st["raw_output"]:
    fail("status: %s" % st)
io = api("/api/v1/pools/{pool}/iostat", "/api/v1/pools/%s/iostat" % pool)
if pool not in io["iostat"]:
    fail("iostat: %s" % io)

# datasets, against zfs list and zfs get
zl = {l.split("\t")[0]: l.split("\t") for l in zfs("zfs", "list", "-Hp", "-t",
      "filesystem,volume", "-o", "name,used,avail,refer,mountpoint,compression").splitlines()}
ds = api("/api/v1/datasets", "/api/v1/datasets")
mine = {d["name"]: d for d in ds["datasets"] if d["name"].split("/")[0] == pool}
if set(mine) != {n for n in zl if n.split("/")[0] == pool}:
    fail("datasets: %s vs %s" % (sorted(mine), sorted(zl)))
for n, d in mine.items():
    z = zl[n]
    if (d["referenced_bytes"], d["mountpoint"], d["compression"]) != (int(z[3]), z[4], z[5]):
        fail("dataset %s: %s vs %s" % (n, d, z))
    if not HUMAN.match(d["used_human"]):
        fail("dataset %s used_human %r" % (n, d["used_human"]))
sp = pool + "/data/with space"
props = api("/api/v1/datasets/{path}", "/api/v1/datasets/" + sp)
zg = {l.split("\t")[1]: l.split("\t")[2] for l in zfs("zfs", "get", "-Hp", "-o",
      "name,property,value", "all", sp).splitlines()}
if props["name"] != sp or props["properties"].get("mountpoint") != zg["mountpoint"] or \
        set(props["properties"]) != set(zg):
    fail("properties of %s: %s vs %s" % (sp, props, zg))
api("/api/v1/datasets/{path}", "/api/v1/datasets/%s/nope" % pool, 404)
snaps = api("/api/v1/datasets/{path}/snapshots", "/api/v1/datasets/%s/data/snapshots" % pool)
zs = zfs("zfs", "list", "-Hp", "-t", "snapshot", "-o", "name,creation,used,refer,guid", "-s",
         "createtxg", "-d", "1", pool + "/data").splitlines()
if [s["full_name"] for s in snaps["snapshots"]] != [l.split("\t")[0] for l in zs] or \
        snaps["count"] != len(zs):
    fail("snapshots of %s/data: %s vs %s" % (pool, snaps, zs))
for s, l in zip(snaps["snapshots"], zs):
    # guid as zfs prints it: unsigned 64 bits, half of them above 2^63
    if s["creation_timestamp"] != int(l.split("\t")[1]) or s["referenced_bytes"] != int(l.split("\t")[3]) \
            or s["guid"] != int(l.split("\t")[4]):
        fail("snapshot %s vs %s" % (s, l))
# a dataset really named "snapshots" is still reachable
sn = api("/api/v1/datasets/{path}/snapshots", "/api/v1/datasets/%s/data/snapshots/snapshots" % pool)
if sn["dataset"] != pool + "/data/snapshots":
    fail("snapshots of the dataset named snapshots: %s" % sn)
api("/api/v1/datasets/{path}/snapshots", "/api/v1/datasets/%s/nope/snapshots" % pool, 404)

rep = api("/api/v1/snapshots", "/api/v1/snapshots")
d = [x for x in rep["datasets"] if x["dataset"] == pool + "/data"]
if not d or d[0]["policy"] != "low" or d[0]["counts"]["hourly"] != 1 or \
        d[0]["retention"]["hourly"] != 3 or d[0]["compliance"]["hourly"] != 33:
    fail("compliance report: %s" % rep)
if rep["summary"]["low_compliance_count"] < 1 or not rep["alerts"]["low_compliance_datasets"]:
    fail("compliance summary: %s" % rep["summary"])
al = api("/api/v1/snapshots/_all", "/api/v1/snapshots/_all")
g = [x for x in al["datasets"] if x["dataset"] == pool + "/data"]
if not g or g[0]["snapshot_count"] != len(zs):
    fail("_all: %s" % al)
one = api("/api/v1/snapshots/{path}", "/api/v1/snapshots/%s/data" % pool)
if one["snapshot_count"] != len(zs) or not HUMAN.match(one["total_used_human"]):
    fail("snapshots/%s/data: %s" % (pool, one))
# an unknown dataset: the seed's 200 with nothing in it
none = api("/api/v1/snapshots/{path}", "/api/v1/snapshots/%s/nope" % pool)
if none["snapshot_count"] != 0 or none["snapshots"] or none["total_used_human"] != "0.00 B":
    fail("snapshots of an unknown dataset: %s" % none)

bk = api("/api/v1/backups", "/api/v1/backups")
if pool + "/backups/h1" not in [b["name"] for b in bk["backup_datasets"]["local_backups"]] or \
        bk["total_local_backups"] != len(bk["backup_datasets"]["local_backups"]):
    fail("backups: %s" % bk)
run = [r for r in bk["runs"] if r["job"] == "h1"]
if not run or run[0]["last_result"] != "ok" or run[0]["bytes"] != 8192 or \
        run[0]["last_success_timestamp"] != 1795679070:
    fail("backup runs: %s" % bk["runs"])
lk = [l for l in bk["locks"] if l["host"] == "client.example"]
if not lk or lk[0]["held"] is not True or not lk[0]["pid"]:
    fail("locks: %s" % bk["locks"])

logs = api("/api/v1/backups/logs", "/api/v1/backups/logs")
if not logs["available"] or [l["filename"] for l in logs["logs"]] != ["pull.log"]:
    fail("logs: %s" % logs)
t = api("/api/v1/backups/logs/{file}", "/api/v1/backups/logs/pull.log?lines=3")
if t["content"] != "line 1498\nline 1499\nline 1500" or t["total_lines"] != 1500 or \
        t["lines_returned"] != 3:
    fail("log tail: %s" % t)
t = api("/api/v1/backups/logs/{file}", "/api/v1/backups/logs/pull.log?lines=5000")
if t["lines_returned"] != 1000 or t["content"].split("\n")[0] != "line 501":
    fail("log tail capped: %s" % {k: v for k, v in t.items() if k != "content"})
t = api("/api/v1/backups/logs/{file}", "/api/v1/backups/logs/pull.log")
if t["lines_returned"] != 100:
    fail("log tail default: %s" % t["lines_returned"])
api("/api/v1/backups/logs/{file}", "/api/v1/backups/logs/shadow.log", 404)
t = api("/api/v1/backups/logs/{file}", "/api/v1/backups/logs/pull.log?lines=0")
if t["lines_returned"] != 1 or t["content"] != "line 1500":
    fail("lines=0 is clamped to 1: %s" % t)
api("/api/v1/backups/logs/{file}", "/api/v1/backups/logs/pull.log?lines=x", 422)
api("/api/v1/backups/logs/{file}", "/api/v1/backups/logs/..", 400)

h = api("/api/v1/health", "/api/v1/health")
if h["status"] != "healthy" or h["service"] != "zfs-api" or not h["timestamp"].endswith("Z"):
    fail("health: %s" % h)
r = api("/", "/")
if r["openapi"] != "/api/openapi.json" or r["message"] != "ZFS Status API" or \
        r["documentation"] != "/api/docs":
    fail("root: %s" % r)
checked.add("/api/openapi.json")
for page in ("/api/docs", "/api/redoc"):
    html = get(page, raw=True)
    if "/api/v1/pools/{pool}/status" not in html or "<script" in html:
        fail("%s: %s" % (page, html[:300]))
    checked.add(page)
m = get("/metrics", raw=True)
open(work + "/metrics.txt", "w").write(m)
checked.add("/metrics")
# the status page: HTML, this host's pool on it (tests/host/t_ui.sh renders
# it in a real browser)
req = urllib.request.Request(base + "/ui/")
if key:
    req.add_header("X-API-Key", key)
with urllib.request.urlopen(req, timeout=10) as r:
    ui, ctype = r.read().decode(), r.headers.get("Content-Type")
if not ctype.startswith("text/html") or ('data-pool="%s"' % pool) not in ui:
    fail("/ui/: %s, pool %s not on the page" % (ctype, pool))
checked.add("/ui/")
missing = set(doc["paths"]) - checked
if missing:
    fail("paths of the document not checked: %s" % sorted(missing))
print("checked %d paths" % len(checked))
