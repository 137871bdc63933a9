# zkeep pull when things go wrong mid-stream, over real ssh: the ssh
# connection cut, the remote zfs send killed, a resume token gone stale, a
# source snapshot destroyed between listing and send, the target pool
# full. Each time: a clear error naming the dataset, a target that is
# unchanged or resumable, and a next run that converges. Plus the base
# protection (the job's hold on the source).
# zkeep-it: once
# zkeep-it: flavour 2.3
. ./lib.sh
S=zfsrc D=zfdst
. ./faults.sh

log_note "scenario 1: ssh cut"
# 1. the ssh connection cut mid-stream (a full send): the dataset fails,
# the target keeps a resume token, the next run resumes it
"${PULL[@]}" --bwlimit 1M --progress >"$st/out" 2>&1 &
zpid=$!
kill_when "ssh .*zkb.*zfs send .*zfsrc/big@s1"
wait $zpid
assert_eq $? 1 "exit code after the ssh connection was cut"
out=$(cat "$st/out")
# ssh killed once connected exits 255: zkeep calls that a lost connection
[[ "$out" == *"send of 'zfsrc/big@s1' lost its ssh connection to zkb@localhost"* ||
	"$out" == *"send of 'zfsrc/big@s1' killed by signal 15"* ]] ||
	log_fail "no clear error for the cut connection: $out"
tok=$(token $T/big)
[ -n "$tok" ] && [ "$tok" != - ] || log_fail "no resume token on $T/big: $out"
rec=$(record zfsrc/big)
assert_contains "$rec" "\"resume_token\": \"$tok\""
assert_contains "$rec" '"result": "failed"'
full=$(zfs send -nvP zfsrc/big@s1 | awk '$1 == "size" {print $2}')
out=$(log_must "${PULL[@]}")
assert_contains "$out" "Resuming the interrupted receive into $T/big"
converged "the resumed full send"
resumed=$(record zfsrc/big | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')
[ "$resumed" -lt "$full" ] || log_fail "the resumed run sent $resumed bytes of $full: not a resume"
assert_eq "$(token $T/big)" "-" "token after the resume"

# the base is protected on the source: a hold of the job (a pull's marks
# name this host too: zkeep:<job>:<host>), no bookmark where it holds
hn=$(hostname | cut -d. -f1)
assert_contains "$(zfs holds -H zfsrc/big@s1)" "zkeep:h:$hn"
log_mustnot zfs list -t bookmark "zfsrc/big#zkeep_h:${hn}_s1"

log_note "scenario 2: zfs send killed"
# 2. the remote zfs send killed (an incremental): resumable again
dd if=/dev/urandom of=/zfsrc/big/f2 bs=1M count=12 status=none
log_must zfs snapshot -r zfsrc@s2
"${PULL[@]}" --bwlimit 1M --progress >"$st/out" 2>&1 &
zpid=$!
kill_when "^zfs send .*zfsrc/big@s2"
wait $zpid
assert_eq $? 1 "exit code after zfs send was killed"
assert_contains "$(cat "$st/out")" "zfsrc/big@s2"
[ "$(token $T/big)" != - ] || log_fail "no resume token after the killed send"
log_mustnot zfs list $T/big@s2
out=$(log_must "${PULL[@]}")
assert_contains "$out" "Resuming the interrupted receive into $T/big"
converged "the resumed incremental"
# the hold moved with the base
assert_contains "$(zfs holds -H zfsrc/big@s2)" "zkeep:h:$hn"
[[ "$(zfs holds -H zfsrc/big@s1)" == *zkeep:h* ]] && log_fail "the old base is still held"

log_note "scenario 3: stale token"
# 3. a stale token: the snapshot being sent is destroyed before the next
# run; the token is aborted and the dataset sent from its base
dd if=/dev/urandom of=/zfsrc/big/f3 bs=1M count=12 status=none
log_must zfs snapshot -r zfsrc@s3
"${PULL[@]}" --bwlimit 1M --progress >"$st/out" 2>&1 &
zpid=$!
kill_when "ssh .*zkb.*zfs send .*zfsrc/big@s3"
wait $zpid
[ "$(token $T/big)" != - ] || log_fail "no resume token to go stale"
# (the other datasets got s3, and it is held there as their base)
log_must zfs destroy zfsrc/big@s3
log_must zfs snapshot -r zfsrc@s4
out=$(log_must "${PULL[@]}")
assert_contains "$out" "aborting the partial receive into $T/big"
converged "a stale token"

true
