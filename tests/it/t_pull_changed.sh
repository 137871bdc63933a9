# zkeep pull's skip of unchanged datasets by snapshots_changed (OpenZFS
# >= 2.2), over real ssh, and its absence on 2.1:
#  - a no-op run after a recorded up-to-date run lists no snapshots
#    ("snapshots listed for 0 of N" in --debug) and reports every dataset
#    up to date, with the newest snapshot carried in the run record;
#  - a new source snapshot, a target snapshot destroyed, or a new dataset
#    are each noticed and listed again, and the target converges guid for
#    guid;
#  - values newer than the trust margin (60 s) are not recorded.
#  - two source datasets swapped by renames are not skipped (the record
#    keeps both datasets' guids).
# On 2.1 the record says the sides have no snapshots_changed and every run
# lists in full. Also: the progress line has an ETA from zfs send -n -v -P.
. ./lib.sh

pool_create zsrc
pool_create zdst
for d in a a/c b; do log_must zfs create "zsrc/$d"; done
dd if=/dev/urandom of=/zsrc/a/f bs=64k count=64 status=none
log_must zfs snapshot -r zsrc@s0
log_must zfs snapshot -r zsrc@s1
pull_job zsrc zdst h --debug
converged() {
	for d in "" /a /a/c /b "$@"; do
		assert_eq "$(guids "zdst/h/zsrc$d")" "$(guids "zsrc$d")" "snapshot guids of zsrc$d"
	done
}
record() { # record PYTHON-EXPR-ON-r: asserts it on the run record
	python3 - "$st/pull-h.json" "$1" <<'PY' || log_fail "run record: $1"
import json, sys
r = json.load(open(sys.argv[1]))
d = {x["source"]: x for x in r["datasets"]}
assert eval(sys.argv[2]), json.dumps(r, indent=1)
PY
}

# the first run sends everything, with a progress line that has an ETA
out=$(log_must "${PULL[@]}" --progress)
assert_contains "$out" "Full send of zsrc/a@s0 into zdst/h/zsrc/a"
assert_contains "$out" "ETA"
converged
# transferred, or too new to trust: nothing recorded to skip by
record 'all(x["snapshots_changed"] is None for x in r["datasets"])'

if [ "$FLAVOUR" = 2.1 ]; then
	record 'r["snapshots_changed"] is False'
	out=$(log_must "${PULL[@]}")
	assert_contains "$out" "Up to date: zdst/h/zsrc/a/c"
	[[ "$out" == *"snapshots listed for"* ]] && log_fail "2.1 cannot skip: $out"
	[[ "$out" == *"no snapshots_changed"* ]] && log_fail "asked for the property again: $out"
	record 'r["snapshots_changed"] is False'
	exit 0
fi
record 'r["snapshots_changed"] is True'

# the values become trustworthy once older than the margin (the clock
# steps forward rather than the test idling a minute)
clock_advance 62
out=$(log_must "${PULL[@]}")
assert_contains "$out" "Up to date: zdst/h/zsrc/a"
[[ "$out" == *"snapshots listed for 4 of 4 datasets"* ]] || log_fail "the first no-op lists all: $out"
record 'all(x["snapshots_changed"]["source"] > 0 for x in r["datasets"])'

out=$(log_must "${PULL[@]}")
assert_contains "$out" "snapshots listed for 0 of 4 datasets"
for d in "" /a /a/c /b; do assert_contains "$out" "Up to date: zdst/h/zsrc$d"; done
[[ "$out" == *"send"* ]] && log_fail "a no-op pull sent something: $out"
record 'd["zsrc/a"]["newest"]["name"] == "zsrc/a@s1" and d["zsrc/a"]["result"] == "up_to_date"'
record 'all(x["snapshots_changed"] is not None for x in r["datasets"])'

# a new snapshot on one source dataset: that one is listed and sent
log_must zfs snapshot zsrc/a/c@s2
out=$(log_must "${PULL[@]}")
assert_contains "$out" "snapshots listed for 1 of 4 datasets"
assert_contains "$out" "Incremental send zsrc/a/c@s1 -> zsrc/a/c@s2 into zdst/h/zsrc/a/c"
assert_contains "$out" "Up to date: zdst/h/zsrc/b"
converged
record 'd["zsrc/a/c"]["snapshots_changed"] is None and d["zsrc/b"]["snapshots_changed"] is not None'

# an older snapshot destroyed on a target: the target moved, so that
# dataset is listed again (with zsrc/a/c, sent last time)
log_must zfs destroy zdst/h/zsrc/a@s0
out=$(log_must "${PULL[@]}")
assert_contains "$out" "snapshots listed for 2 of 4 datasets"
assert_contains "$out" "Up to date: zdst/h/zsrc/a"
[[ "$out" == *"send"* ]] && log_fail "nothing to send after a target prune: $out"

# a new dataset is listed and sent in full
log_must zfs create zsrc/n
log_must zfs snapshot zsrc/n@s1
out=$(log_must "${PULL[@]}")
assert_contains "$out" "Full send of zsrc/n@s1 into zdst/h/zsrc/n"
assert_eq "$(guids zdst/h/zsrc/n)" "$(guids zsrc/n)" "snapshot guids of the new dataset"

# the record names both datasets by guid: zsrc/b and zsrc/a/c swapped by
# renames (which move no snapshots_changed, and both were snapshotted in
# the same second) are not taken for the datasets recorded there
record 'all(x["snapshots_changed"]["source_guid"] != 0 and x["snapshots_changed"]["protected"] for x in r["datasets"] if x["snapshots_changed"])'
clock_advance 62
log_must "${PULL[@]}" >/dev/null
out=$(log_must "${PULL[@]}")
assert_contains "$out" "snapshots listed for 0 of 5 datasets"
# guids are recorded as zfs prints them (strings: half of all guids do not
# fit a signed 64-bit number); a record of an earlier build, with signed
# integers there, still lets every dataset be skipped
for d in "" /a /a/c /b /n; do
	g=$(zfs get -H -p -o value guid "zsrc$d") tg=$(zfs get -H -p -o value guid "zdst/h/zsrc$d")
	ng=$(zfs get -H -p -o value guid "$(zfs list -H -o name -t snapshot -s createtxg "zsrc$d" | tail -1)")
	record "d['zsrc$d']['snapshots_changed']['source_guid'] == '$g' and d['zsrc$d']['snapshots_changed']['target_guid'] == '$tg' and d['zsrc$d']['newest']['guid'] == '$ng'"
done
python3 - "$st/pull-h.json" <<'PY' || log_fail "rewriting the record in the old form"
import json, sys
s = lambda g: int(g) - (1 << 64) if int(g) >= 1 << 63 else int(g)
r = json.load(open(sys.argv[1]))
for x in r["datasets"]:
	x["newest"]["guid"] = s(x["newest"]["guid"])
	c = x["snapshots_changed"]
	c["source_guid"], c["target_guid"] = s(c["source_guid"]), s(c["target_guid"])
json.dump(r, open(sys.argv[1], "w"))
PY
out=$(log_must "${PULL[@]}")
assert_contains "$out" "snapshots listed for 0 of 5 datasets"
log_must zfs rename zsrc/b zsrc/tmp
log_must zfs rename zsrc/a/c zsrc/b
log_must zfs rename zsrc/tmp zsrc/a/c
out=$("${PULL[@]}" 2>&1)
assert_eq $? 1 "exit code with two source datasets swapped"
[[ "$out" == *"Up to date: zdst/h/zsrc/b"* ]] && log_fail "a swapped dataset taken as up to date: $out"
[[ "$out" == *"Up to date: zdst/h/zsrc/a/c"* ]] && log_fail "a swapped dataset taken as up to date: $out"
assert_contains "$out" "snapshots listed for 2 of 5 datasets"

# a run that fails as a whole (the source refuses the login) keeps every
# dataset in the record, failed, with its last success and newest snapshot
out=$($ZK pull --config "$st/zkeep.conf" --host localhost --user nosuchuser --destination zdst \
	--name h --datasets zsrc 2>&1)
assert_eq $? 1 "exit code when the source refuses the login"
record 'r["result"] == "failed" and len(d) == 5 and all(x["result"] == "failed" for x in d.values())'
record 'all(x["last_success"] > 0 and x["error"] for x in d.values())'
record 'd["zsrc/a/c"]["newest"]["name"] == "zsrc/a/c@s2"'
