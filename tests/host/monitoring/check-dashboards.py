#!/usr/bin/python3
"""Checks Grafana dashboard JSON files against a running VictoriaMetrics.

  check-dashboards.py VM_URL TIME FILE...

Structure: valid JSON; unique uid and title; a `datasource` variable of type
datasource (prometheus) first; every panel and target uses it; unique panel
ids and refIds; panels inside the 24-column grid without overlapping; every
$variable used is defined.
Queries: every variable's label_values() query and every panel target, with
the variables substituted (multi-value ones as the All value .*, single-value
ones as each value the variable offers), is sent to VM_URL's
/api/v1/query at TIME (and /api/v1/query_range over the hour before it for
range targets): each must answer status "success" with at least one series
(for a single-value variable: for at least one of its values).
Prints one line per problem; exits 1 if there was any.
"""
import json
import re
import sys
import urllib.parse
import urllib.request

VM, AT, FILES = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
DS = {"type": "prometheus", "uid": "${datasource}"}
problems = []
queries = [0]


def bad(msg):
    problems.append(msg)
    print("FAIL " + msg)


def get(path, params):
    queries[0] += 1
    url = VM + path + "?" + urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return {"status": "http %d" % e.code, "error": e.read().decode(errors="replace")[:300]}


def run(expr, rng):
    """(ok, series) for an instant (and, if rng, range) query."""
    r = get("/api/v1/query", {"query": expr, "time": AT})
    if r.get("status") != "success":
        return False, "instant: %s %s" % (r.get("status"), r.get("error", ""))
    n = len(r["data"]["result"])
    if rng:
        q = get("/api/v1/query_range", {"query": expr, "start": AT - 3600, "end": AT, "step": 60})
        if q.get("status") != "success":
            return False, "range: %s %s" % (q.get("status"), q.get("error", ""))
        n = min(n, len(q["data"]["result"]))
    return True, n


VAR_RE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def label_values(q, subst):
    m = re.fullmatch(r"label_values\((?:(.*),\s*)?([A-Za-z_][A-Za-z0-9_]*)\)", q.strip())
    if not m:
        bad("variable query is not label_values(...): " + q)
        return []
    match, label = m.group(1), m.group(2)
    params = {"start": AT - 3600, "end": AT}
    if match:
        params["match[]"] = subst(match)
    r = get("/api/v1/label/%s/values" % label, params)
    if r.get("status") != "success":
        bad("label values %s: %s" % (q, r))
        return []
    return r["data"]


def check(path, seen_uids, seen_titles):
    try:
        d = json.load(open(path))
    except ValueError as e:
        bad("%s: not JSON: %s" % (path, e))
        return
    name = path.rsplit("/", 1)[-1]
    for k in ("uid", "title", "panels", "templating", "schemaVersion"):
        if k not in d:
            bad("%s: no %s" % (name, k))
            return
    if d["uid"] in seen_uids or d["title"] in seen_titles:
        bad("%s: uid or title not unique" % name)
    seen_uids.add(d["uid"])
    seen_titles.add(d["title"])
    vars_ = d["templating"]["list"]
    if not vars_ or vars_[0].get("type") != "datasource" or vars_[0].get("query") != "prometheus" \
            or vars_[0].get("name") != "datasource":
        bad("%s: first variable is not a prometheus datasource variable" % name)
    defined = {v["name"]: v for v in vars_}

    # panels, flattening rows
    panels = []
    for p in d["panels"]:
        panels.append(p)
        panels.extend(p.get("panels", []))
    ids = [p["id"] for p in panels]
    if len(ids) != len(set(ids)):
        bad("%s: panel ids not unique" % name)
    cells = {}
    for p in panels:
        g = p.get("gridPos", {})
        if not all(k in g for k in "xywh") or g["x"] < 0 or g["x"] + g["w"] > 24:
            bad("%s: panel %r: gridPos %r" % (name, p.get("title"), g))
            continue
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    bad("%s: panels %r and %r overlap" % (name, cells[(x, y)], p.get("title")))
                    break
                cells[(x, y)] = p.get("title")
            else:
                continue
            break

    used = set()
    targets = []
    for p in panels:
        if p.get("type") == "row":
            continue
        if p.get("datasource") != DS:
            bad("%s: panel %r does not use ${datasource}" % (name, p.get("title")))
        ts = p.get("targets") or []
        if not ts:
            bad("%s: panel %r has no query" % (name, p.get("title")))
        refs = [t.get("refId") for t in ts]
        if len(refs) != len(set(refs)):
            bad("%s: panel %r: refIds not unique" % (name, p.get("title")))
        for t in ts:
            if t.get("datasource") != DS:
                bad("%s: panel %r target %s does not use ${datasource}" % (name, p["title"], t.get("refId")))
            e = t.get("expr", "")
            if not e.strip():
                bad("%s: panel %r target %s: empty expr" % (name, p["title"], t.get("refId")))
                continue
            used |= set(VAR_RE.findall(e))
            targets.append((p["title"], t["refId"], e, not t.get("instant", False)))
    for v in vars_[1:]:
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        used |= set(VAR_RE.findall(q or ""))
    for u in sorted(used - set(defined)):
        bad("%s: $%s used but not defined" % (name, u))

    # variable values, in order (later ones may use earlier ones)
    singles = [v for v in vars_[1:] if not v.get("multi") and not v.get("includeAll")]
    choice = {}

    def subst(expr):
        def rep(m):
            v = defined.get(m.group(1))
            if v is None:
                return m.group(0)
            if m.group(1) in choice:
                return choice[m.group(1)]
            return ".*"
        return VAR_RE.sub(rep, expr)

    def eval_vars():
        for v in vars_[1:]:
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            vals = label_values(q, subst)
            if not vals:
                return False
            if v in singles and v["name"] not in choice:
                choice[v["name"]] = vals[0]
        return True

    if len(singles) > 1:
        bad("%s: more than one single-value variable (checker handles one)" % name)
        return
    if singles:
        sv = singles[0]
        q = sv["query"]["query"] if isinstance(sv["query"], dict) else sv["query"]
        options = label_values(q, subst)
        if not options:
            bad("%s: variable %s has no values" % (name, sv["name"]))
            return
    else:
        options = [None]
    got = {}
    for opt in options:
        choice.clear()
        if opt is not None:
            choice[singles[0]["name"]] = opt
        if not eval_vars():
            bad("%s: a variable has no values with %s=%s" % (name, singles[0]["name"] if singles else "", opt))
        for title, ref, e, rng in targets:
            q = subst(e)
            if VAR_RE.search(q):
                bad("%s: %r %s: unsubstituted variable in %s" % (name, title, ref, q))
                continue
            ok, n = run(q, rng)
            if not ok:
                bad("%s: %r %s: %s: %s" % (name, title, ref, q, n))
                continue
            got[(title, ref)] = max(got.get((title, ref), 0), n)
    for title, ref, e, rng in targets:
        if got.get((title, ref), 0) == 0:
            bad("%s: %r %s returned no data (%s%s): %s" % (
                name, title, ref, "for any " + singles[0]["name"] if singles else "all values",
                ", instant and range" if rng else "", e))
    print("%s: %d panels, %d targets checked%s" % (
        name, len([p for p in panels if p.get("type") != "row"]), len(targets),
        (" for %d values of $%s" % (len(options), singles[0]["name"])) if singles else ""))


def main():
    uids, titles = set(), set()
    for f in FILES:
        check(f, uids, titles)
    print("%d queries, %d problems" % (queries[0], len(problems)))
    sys.exit(1 if problems else 0)


main()
