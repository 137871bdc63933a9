# zkeep pull when things go wrong, over real ssh (continued from
# t_pull_faults): a source snapshot destroyed between listing and send,
# the target pool full, a resume without bookmarks. Each time: a clear
# error naming the dataset, a target that is unchanged or resumable, and
# a next run that converges.
# zkeep-it: once
# zkeep-it: flavour 2.3
. ./lib.sh
S=zgsrc D=zgdst
. ./faults.sh

log_must "${PULL[@]}" >/dev/null
log_note "scenario 4: source snapshot destroyed"
# 4. a source snapshot destroyed between the listing and its send: that
# dataset fails with its name, the others go on, the next run converges
dd if=/dev/urandom of=/zgsrc/big/f4 bs=1M count=10 status=none
echo two >>/zgsrc/small/f
log_must zfs snapshot -r zgsrc@s5
"${PULL[@]}" --bwlimit 1M --progress >"$st/out" 2>&1 &
zpid=$!
wait_for "zfs send .*zgsrc/big@s5" >/dev/null || exit 1
# the listing is done before the first send starts: small@s5 is planned
log_must zfs destroy zgsrc/small@s5
wait $zpid
assert_eq $? 1 "exit code with a source snapshot gone"
out=$(cat "$st/out")
assert_contains "$out" "zgsrc/small@s5"
assert_contains "$(record zgsrc/small)" '"result": "failed"'
assert_contains "$(record zgsrc/big)" '"result": "ok"'
log_must zfs list $T/big@s5 >/dev/null
log_must "${PULL[@]}" >/dev/null
converged "a destroyed source snapshot"

log_note "scenario 5: target pool full"
# 5. the target pool full: a clear error, then with space the next run
# converges
pool_create zgtiny 128M
log_must zfs create -o canmount=off zgtiny/h
dd if=/dev/urandom of=/zgtiny/fill bs=1M count=70 status=none
sync
out=$($ZK pull --config "$st/zkeep.conf" --host localhost --user zkb --destination zgtiny \
	--name h --datasets zgsrc/big 2>&1)
assert_eq $? 1 "exit code with a full target pool"
assert_contains "$out" "zgsrc/big"
assert_contains "$out" "space"
log_must rm /zgtiny/fill
# the freed blocks are usable once their deferred frees are synced out
# (the available property shows them sooner, and on 2.1 a zfs create
# still fails until then): three txg syncs
for _ in 1 2 3; do log_must zpool sync zgtiny; done
log_must $ZK pull --config "$st/zkeep.conf" --host localhost --user zkb --destination zgtiny \
	--name h --datasets zgsrc/big
assert_eq "$(guids zgtiny/h/zgsrc/big)" "$(guids zgsrc/big)" "snapshots after space was freed"

log_note "scenario 6: a resume without bookmarks"
# 6. a source user without the bookmark permission: once a resumed
# transfer ends the run, the hold on the base the last run recorded is
# released (there is no bookmark of the job to find it by)
log_must "${PULL[@]}" >/dev/null # the record names zgdst's base again
log_must zfs unallow zkb bookmark zgsrc
hn=$(hostname | cut -d. -f1)
assert_contains "$(zfs holds -H zgsrc/big@s5)" "zkeep:h:$hn"
dd if=/dev/urandom of=/zgsrc/big/f6 bs=1M count=12 status=none
log_must zfs snapshot -r zgsrc@s6
"${PULL[@]}" --bwlimit 1M --progress >"$st/out" 2>&1 &
zpid=$!
kill_when "ssh .*zkb.*zfs send .*zgsrc/big@s6"
wait $zpid
[ "$(token $T/big)" != - ] || log_fail "no resume token after the cut send"
out=$(log_must "${PULL[@]}")
assert_contains "$out" "Resuming the interrupted receive into $T/big"
converged "a resume without bookmarks"
assert_contains "$(zfs holds -H zgsrc/big@s6)" "zkeep:h:$hn"
[[ "$(zfs holds -H zgsrc/big@s5)" == *"zkeep:h:$hn"* ]] && log_fail "the base before the resume is still held"
true
