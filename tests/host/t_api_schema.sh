# docs/schema (one JSON Schema per endpoint, made from docs/openapi.json by
# scripts/api-schemas) is up to date, and every body the unit tests get
# from the api (tests/unit/test_view.c, over captured OpenZFS 2.1 and 2.3
# output) validates against it with a real validator (python3-jsonschema,
# draft 2020-12); bodies that break the seed's types fail it. The VM test
# (tests/it/api_check.py) validates the live api with the same schemas.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/${ZKEEP_BUILD:-build}
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3 # Debian's, which has python3-jsonschema
$py -c 'import jsonschema' || fail "python3-jsonschema is not installed (scripts/install-deps)"
$py "$top/scripts/api-schemas" --check || fail "docs/schema is stale"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ZK_TEST_API_BODIES=$T "$build/tests/unit/test_view" >"$T/unit.log" 2>&1 ||
	fail "test_view: $(tail -5 "$T/unit.log")"
[ "$(wc -l <"$T/bodies.tsv")" -gt 50 ] || fail "too few bodies: $(wc -l <"$T/bodies.tsv")"
$py "$top/tests/it/api_schema.py" "$top/docs/schema" "$T/bodies.tsv" || fail "bodies do not validate"
# the validator refuses what the seed's contract refuses
mutate() { # template file python-expression-on-b
	$py - "$top/tests/it" "$top/docs/schema" "$1" "$2" "$3" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import api_schema
s = api_schema.Schemas(sys.argv[2])
b = json.load(open(sys.argv[4]))
exec(sys.argv[5])
sys.exit(0 if s.check(sys.argv[3], 200, b) else 1)
PY
}
first() { awk -F'\t' -v t="$1" '$1 == t && $2 == 200 { print $3; exit }' "$T/bodies.tsv"; }
mutate /api/v1/datasets "$(first /api/v1/datasets)" 'b["datasets"][0]["compression_ratio"] = 1.5' ||
	fail "a numeric compression_ratio passed"
mutate /api/v1/datasets "$(first /api/v1/datasets)" 'b["datasets"][0]["compression_savings_percent"] = None' ||
	fail "a null savings passed"
mutate /api/v1/pools "$(first /api/v1/pools)" 'b["pools"][0]["capacity_percent"] = 3.0' ||
	fail "a float capacity_percent passed"
mutate /api/v1/snapshots "$(first /api/v1/snapshots)" 'b["summary"]["avg_compliance"] = 33.5' ||
	fail "a float avg_compliance passed"
mutate /api/v1/backups "$(first /api/v1/backups)" 'b["local_backups"] = b["backup_datasets"]["local_backups"]; del b["backup_datasets"]' ||
	fail "backups without backup_datasets passed"
mutate /api/v1/pools/{pool} "$(first /api/v1/pools/{pool})" 'b["size_human"] = "1.5 MB"' ||
	fail "a malformed *_human passed"
echo "ok"
