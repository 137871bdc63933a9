# deploy/grafana: the dashboards JSON is what dashboards.py generates (no
# hand edits drifting), it is well formed for Grafana (datasource variable,
# every panel on it, grid without overlaps, variables defined), every panel
# query and variable query with the variables substituted returns status
# success and data from a real victoria-metrics holding 2 h of SAMPLE data
# (tests/host/monitoring/sample-data.py, not the live exporter: the live test
# is tests/host/t_monitoring_live.sh); the provisioning files are valid YAML that point
# at the right places; the example queries in docs/monitoring.md answer with
# data. Grafana itself is not in Debian 12 and is not started.
source "$(dirname "$0")/monitoring/lib.sh"
G=$DEPLOY/grafana
/usr/bin/python3 "$G/dashboards.py" --check || fail "dashboards/*.json differ from dashboards.py: run deploy/grafana/dashboards.py"
files=("$G"/dashboards/*.json)
[ ${#files[@]} -eq 3 ] || fail "want 3 dashboards, found ${#files[@]}"
for t in "ZFS overview" "ZFS backups" "ZFS host"; do
	jq -se --arg t "$t" 'map(select(.title == $t)) | length == 1' "${files[@]}" >/dev/null || fail "no dashboard titled $t"
done
# the seed's six panels on the overview
for p in "Pool capacity" "Pool health" "Dataset space by host" "Top 10 datasets" \
	"Snapshot compliance by policy" "Snapshot count trends"; do
	jq -e --arg p "$p" '.panels[] | select(.title == $p)' "$G/dashboards/zkeep-zfs-overview.json" >/dev/null ||
		fail "overview lacks panel $p"
done
jq -e '.panels[] | select(.title == "Snapshot compliance by policy") | .targets[0].expr
	| startswith("avg by (hostname, policy, interval) (zfs_snapshot_compliance_percent")' \
	"$G/dashboards/zkeep-zfs-overview.json" >/dev/null || fail "compliance panel is not the seed's avg by (hostname, policy, interval)"
jq -e '.templating.list[] | select(.name == "hostname" and .multi == false and .includeAll == false)' \
	"$G/dashboards/zkeep-host.json" >/dev/null || fail "per-host dashboard has no single hostname variable"

end=$(date +%s)
/usr/bin/python3 "$MON/sample-data.py" "$end" 2 60 >"$T/data.prom"
vm_start
vm_import "$T/data.prom"
/usr/bin/python3 "$MON/check-dashboards.py" "$VM" "$end" "${files[@]}" || fail "dashboard check"

# the example queries in docs/monitoring.md (the ```promql block)
n=0
while IFS= read -r q; do
	n=$((n + 1))
	r=$(vm_query "$q" "$end")
	[ "$(jq -r .status <<<"$r")" = success ] || fail "docs example '$q': $r"
	[ "$(jq -r '.data.result | length' <<<"$r")" -gt 0 ] || fail "docs example '$q' returned no data"
done < <(sed -n '/^```promql$/,/^```$/p' "$TOP/docs/monitoring.md" | grep -v -e '^```' -e '^#' -e '^$')
[ $n -ge 8 ] || fail "only $n example queries found in docs/monitoring.md"

# provisioning
/usr/bin/python3 - "$G/provisioning" <<'PY' || fail "provisioning files"
import sys, yaml
d = sys.argv[1]
ds = yaml.safe_load(open(d + "/datasources/zkeep-victoriametrics.yml"))
assert ds["apiVersion"] == 1, ds
(s,) = ds["datasources"]
assert s["type"] == "prometheus" and s["url"].endswith(":8428") and s["access"] == "proxy", s
db = yaml.safe_load(open(d + "/dashboards/zkeep.yml"))
assert db["apiVersion"] == 1, db
(p,) = db["providers"]
assert p["type"] == "file" and p["options"]["path"].startswith("/var/lib/grafana/dashboards"), p
PY
echo "monitoring dashboards: ok"
