# The capability probe against the VM's real OpenZFS.
. ./lib.sh

out=$(log_must $TT probe)
want=$(zfs version | head -n 1)
assert_contains "$out" "userland=$want"
assert_contains "$out" "resume=1"
assert_contains "$out" "raw_send=1"
case "$FLAVOUR" in
2.1) assert_contains "$out" "version=2.1." ; assert_contains "$out" "snapshots_changed=0" ;;
2.3) assert_contains "$out" "version=2.3." ; assert_contains "$out" "snapshots_changed=1" ;;
*) log_fail "unknown flavour $FLAVOUR" ;;
esac
# the same over ssh as an unprivileged user
out2=$(log_must $TT probe --ssh zkb@localhost)
assert_eq "$out2" "$out" "probe over ssh"
