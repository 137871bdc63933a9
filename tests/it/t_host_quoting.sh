# Remote command quoting over real ssh (root -> zkb@localhost): names that
# ZFS accepts round-trip exactly; names it refuses are refused by ZFS itself,
# reach it intact, and nothing they contain is ever executed.
# The quoting is zkeep's and ssh's, and the names ZFS accepts are the same
# on every OpenZFS release here: the newest only (CI's time).
# zkeep-it: flavour 2.3
. ./lib.sh

pool_create zkq
canary=/tmp/zk-pwned
rm -f $canary
on_exit rm -f $canary
ctl=$(mktemp -d)
on_exit rm -rf "$ctl"
SSH=(--ssh zkb@localhost --control "$ctl")

good=("with space" "co:lon" "per.iod" "hy-phen" "under_score" "  two  spaces " "a:b.c-d_e f")
for n in "${good[@]}"; do
	log_must zfs create "zkq/$n"
	out=$(log_must $TT run "${SSH[@]}" -- zfs list -H -o name "zkq/$n")
	assert_eq "$out" "zkq/$n" "listing of '$n' over ssh"
	log_must zfs snapshot "zkq/$n@snap $n"
	out=$(log_must $TT run "${SSH[@]}" -- zfs list -H -o name -t snapshot "zkq/$n@snap $n")
	assert_eq "$out" "zkq/$n@snap $n" "snapshot of '$n' over ssh"
done

bad=("it's" 'dq"x' "sub\$(touch $canary)" "semi;touch $canary" "back\`touch $canary\`"
	$'new\nline' "pipe|touch $canary" "amp&touch $canary" 'dollar$HOME' "star*" 'back\slash')
for n in "${bad[@]}"; do
	# ZFS itself refuses the name
	log_mustnot zfs create "zkq/$n"
	# the word reaches the remote side exactly as given
	out=$(log_must $TT run "${SSH[@]}" -- printf '%s' "zkq/$n")
	assert_eq "$out" "zkq/$n" "round trip of a hostile word"
	# and zfs on the remote side names exactly that dataset in its refusal
	err=$($TT run "${SSH[@]}" -- zfs list -H -o name "zkq/$n" 2>&1)
	[ $? -eq 1 ] || log_fail "listing '$n' over ssh did not fail"
	assert_contains "$err" "zkq/"
done
[ -e $canary ] && log_fail "a hostile name executed a command on the remote side"

# exact-line mode refuses what would need quoting, and sends plain words as is
log_mustnot $TT run --exact "${SSH[@]}" -- zfs list -H -o name "zkq/with space"
out=$(log_must $TT run --exact "${SSH[@]}" -- zfs list -H -o name zkq/co:lon)
assert_eq "$out" "zkq/co:lon" "exact-line listing"

# ssh failures are reported as such
err=$($TT run --ssh nobody-here@localhost -- true 2>&1)
[ $? -eq 1 ] || log_fail "ssh as an unknown user did not fail"
assert_contains "$err" "cannot reach nobody-here@localhost over ssh"
log_mustnot $TT run --ssh "-oProxyCommand=touch $canary" -- true
[ -e $canary ] && log_fail "an ssh option was injected through the host name"
exit 0
