# The Ansible role's reading of the inventory's zfs: tree
# (deploy/ansible/roles/zkeep/filter_plugins/zkeep.py), without Ansible:
# the old system's form (seed-system.md 8) walked by the rule of 1.2, the
# role's flat form as before, what each dataset's [dataset] section says,
# the pull and offsite selections (explicit policies only) and the trees
# the role refuses. Runs on this machine with python3.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
python3 - "$top/deploy/ansible/roles/zkeep/filter_plugins" <<'PY'
import sys

import yaml

sys.path.insert(0, sys.argv[1])
import zkeep as z

failures = []


def check(what, got, want):
    if got != want:
        failures.append(f"{what}:\n  got  {got!r}\n  want {want!r}")


def tree(text):
    return yaml.safe_load(text)["zfs"]


# [dataset] sections carry own keys only (conf_policy: the policy line, or
# None for none): zkeep applies the same inheritance rule to them
def table(datasets):
    """name -> (own policy, effective, conf_policy, discover, cip)"""
    return {d["name"]: (d["policy"], d["effective_policy"], d["conf_policy"],
                        d["discover_children"], d["children_inherit_policy"])
            for d in datasets if d["section"]}


KNOWN = z.zkeep_known_policies({})

# seed-system.md 8's sample, as it is written there
SAMPLE = tree("""
zfs:
  fastpool:
    pool_properties: {}
    vdevs:
      - type: mirror
        disks: [/dev/disk/by-id/A, /dev/disk/by-id/B]
    datasets:
      compositions:
        policy: critical
        children_inherit_policy: true
        snapshots_discover_children: true
        properties: {}
        datasets:
          gitea:
          logs:
            policy: none
      scratch:
""")
ds = z.zkeep_datasets(SAMPLE, "h")
check("sample: form", z.zkeep_tree_form(SAMPLE), "seed")
check("sample: order (depth first, YAML order, no pool root)",
      [d["name"] for d in ds],
      ["fastpool/compositions", "fastpool/compositions/gitea",
       "fastpool/compositions/logs", "fastpool/scratch"])
check("sample: table", table(ds), {
    "fastpool/compositions": ("critical", "critical", "critical", True, True),
    "fastpool/compositions/gitea": (None, "critical", None, False, False),
    "fastpool/compositions/logs": ("none", "none", "none", False, False),
    "fastpool/scratch": (None, "none", None, False, False),
})
check("sample: pulled", z.zkeep_select(ds, ["high", "critical"]), ["fastpool/compositions"])
check("sample: offsite", z.zkeep_select(ds, ["critical"]), ["fastpool/compositions"])
check("sample: no problems", z.zkeep_tree_problems(SAMPLE, KNOWN, "h"), [])

# chains: a dataset without a policy key passes on what it inherited, to
# grandchildren and deeper; an explicit policy stops the chain unless the
# same dataset has children_inherit_policy; inheritance never selects
CHAINS = tree("""
zfs:
  tank:
    datasets:
      a:
        policy: high
        children_inherit_policy: true
        datasets:
          b:
            datasets:
              c:
                datasets:
                  d: {}
          e:
            policy: low
            datasets:
              f:
          g:
            policy: critical
            children_inherit_policy: true
            datasets:
              h:
      x:
        policy: high
        datasets:
          y:
      n:
        policy: none
        children_inherit_policy: true
        datasets:
          m:
      u:
        children_inherit_policy: true
        datasets:
          v:
  slowpool:
    vdevs: []
""")
ds = z.zkeep_datasets(CHAINS, "h")
check("chains: table", table(ds), {
    "tank/a": ("high", "high", "high", False, True),
    "tank/a/b": (None, "high", None, False, False),
    "tank/a/b/c": (None, "high", None, False, False),
    "tank/a/b/c/d": (None, "high", None, False, False),
    "tank/a/e": ("low", "low", "low", False, False),
    "tank/a/e/f": (None, "none", None, False, False),
    "tank/a/g": ("critical", "critical", "critical", False, True),
    "tank/a/g/h": (None, "critical", None, False, False),
    "tank/x": ("high", "high", "high", False, False),
    "tank/x/y": (None, "none", None, False, False),
    "tank/n": ("none", "none", "none", False, True),
    "tank/n/m": (None, "none", None, False, False),
    "tank/u": (None, "none", None, False, True),
    "tank/u/v": (None, "none", None, False, False),
})
check("chains: pulled (explicit, not below another)",
      z.zkeep_select(ds, ["high", "critical"]), ["tank/a", "tank/x"])
check("chains: offsite (explicit critical)", z.zkeep_select(ds, ["critical"]), ["tank/a/g"])

# importance: is policy's older name; policy wins where both are; a null
# policy is written empty (zkeep's reading of the old null) and stops the
# chain as any policy key does; unknown keys anywhere are ignored
OLD = tree("""
zfs:
  fastpool:
    state: present
    device: /dev/sda
    datasets:
      old: {importance: critical, delegation: {user: x}, properties: {compression: lz4}}
      both: {policy: low, importance: critical}
      nul: {policy: null, children_inherit_policy: true, datasets: {kid: null}}
      weird: {colour: blue, datasets: {}}
""")
ds = z.zkeep_datasets(OLD, "h")
check("importance, null policy, unknown keys: table", table(ds), {
    "fastpool/old": ("critical", "critical", "critical", False, False),
    "fastpool/both": ("low", "low", "low", False, False),
    "fastpool/nul": ("", "none", "", False, True),
    "fastpool/nul/kid": (None, "none", None, False, False),
    "fastpool/weird": (None, "none", None, False, False),
})
check("importance: pulled", z.zkeep_select(ds, ["high", "critical"]), ["fastpool/old"])

# a host with pools only (or none): nothing, and that is no error
POOLS = tree("zfs:\n  fastpool:\n    vdevs: [{type: stripe, disks: [a]}]\n  slowpool:\n")
check("pools only", z.zkeep_datasets(POOLS, "h"), [])
check("pools only: no problems", z.zkeep_tree_problems(POOLS, KNOWN, "h"), [])
check("empty tree", z.zkeep_datasets({}, "h"), [])

# the role's own flat form, exactly as before
FLAT = tree("""
zfs:
  fastpool/compositions: {policy: critical, snapshots_discover_children: true}
  fastpool/acme:
    policy: high
    children_inherit_policy: true
    children:
      web: {}
      db: {policy: critical}
  fastpool/plain: {}
""")
ds = z.zkeep_datasets(FLAT, "h")
check("flat: form", z.zkeep_tree_form(FLAT), "flat")
check("flat: table (no section for fastpool/plain)", table(ds), {
    "fastpool/compositions": ("critical", "critical", "critical", True, False),
    "fastpool/acme": ("high", "high", "high", False, True),
    "fastpool/acme/web": (None, "high", None, False, False),
    "fastpool/acme/db": ("critical", "critical", "critical", False, False),
})
check("flat: pulled", z.zkeep_select(ds, ["high", "critical"]),
      ["fastpool/compositions", "fastpool/acme"])
check("flat: no problems", z.zkeep_tree_problems(FLAT, KNOWN, "h"), [])


def problems(text, known=KNOWN):
    return z.zkeep_tree_problems(tree(text), known, "host-storage")


def refused(what, text, words):
    got = problems(text)
    if not got or not all(w in " ".join(got) for w in words + ["host host-storage"]):
        failures.append(f"{what}: want a problem naming {words}, got {got!r}")


# what the role refuses, each naming the host
refused("mixed: a flat dataset beside a pool", """
zfs:
  fastpool: {datasets: {a: {policy: high}}}
  fastpool/b: {policy: critical}
""", ["fastpool/b", "mixed"])
refused("children: in the old form", """
zfs:
  fastpool:
    datasets:
      a: {policy: high, children: {b: {}}}
""", ["fastpool/a", "children"])
refused("a policy on a pool", """
zfs:
  fastpool: {policy: critical, datasets: {a: {}}}
""", ["pool fastpool", "policy"])
refused("unknown policy", """
zfs:
  fastpool: {datasets: {a: {policy: crtical}}}
""", ["fastpool/a", "crtical"])
refused("declared twice", """
zfs:
  fastpool:
    datasets:
      a: {datasets: {b: {policy: low}}}
      a/b: {policy: high}
""", ["fastpool/a/b", "twice"])
# the old role's failure: policies under a key it does not read give an
# empty config, which is an error and not a quiet no-op
refused("policies that reach no dataset", """
zfs:
  fastpool:
    dataset:
      compositions: {policy: critical}
""", ["declares policies", "manage nothing"])
refused("a dataset that is no mapping", """
zfs:
  fastpool: {datasets: {a: critical}}
""", ["fastpool/a"])
check("own policies are known", problems("zfs:\n  fastpool: {datasets: {a: {policy: gold}}}\n",
                                         z.zkeep_known_policies({"gold": {}})), [])

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
PY
