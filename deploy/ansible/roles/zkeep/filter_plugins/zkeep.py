"""Filters for the zkeep role: read the inventory's `zfs:` tree.

Two forms of the tree are read (defaults/main.yml says how they are told
apart): the role's own flat form (dataset names as keys, `children:`) and
the old system's form (pools, nested `datasets:`, docs seed-system.md 8).
Importable without Ansible, so tests/host/t_role_inventory.sh can check
the tree walk with a plain python3.
"""

try:
    from ansible.errors import AnsibleFilterError
except ImportError:  # the host test runs without Ansible
    class AnsibleFilterError(Exception):
        pass

# A top-level value with one of these keys is a pool: the old form.
POOL_MARKERS = ("datasets", "vdevs", "pool_properties")
# Keys of a dataset that make no sense on a pool in the old form: there,
# they mean the two forms were mixed up, and ignoring them would lose a
# declared policy without a word (pool roots are never listed).
DATASET_KEYS = ("policy", "importance", "children", "children_inherit_policy",
                "snapshots_discover_children")
BUILTIN_POLICIES = ("none", "low", "high", "critical")


def _where(host):
    return f"host {host}: " if host else ""


def zkeep_tree_form(tree):
    """'seed' when a top-level value is a pool (a mapping with datasets,
    vdevs or pool_properties), else 'flat'."""
    for node in (tree or {}).values():
        if isinstance(node, dict) and any(k in node for k in POOL_MARKERS):
            return "seed"
    return "flat"


def _walk_flat(tree, parent, inherited, out):
    # The role's own form, as it always was: inheritance only through
    # children_inherit_policy, a section only where there is something to
    # say (zkeep refuses a [dataset] it cannot give a policy).
    for key, node in (tree or {}).items():
        node = node or {}
        name = f"{parent}/{key}" if parent else str(key)
        own = node.get("policy")
        effective = own or inherited
        discover = bool(node.get("snapshots_discover_children", False))
        cip = bool(node.get("children_inherit_policy", False))
        out.append({
            "name": name,
            "policy": own,
            "effective_policy": effective,
            "discover_children": discover,
            "children_inherit_policy": cip,
            "section": bool(own or discover or cip or effective),
            "conf_policy": own or None,
        })
        passed = effective if node.get("children_inherit_policy") else None
        _walk_flat(node.get("children"), name, passed, out)
    return out


def _own_policy(node):
    """(has a policy key, its value as a name): `importance:` is the key's
    older name; a null value is "" (the old system's null, which acted as
    none; zkeep reads an empty policy as that null)."""
    for key in ("policy", "importance"):
        if key in node:
            v = node[key]
            return True, "" if v is None else str(v)
    return False, None


def _walk_seed(tree, parent, inherited, out, host):
    # seed-system.md 1.2: depth first in YAML order; a dataset's policy is
    # its own key (even none), else what it inherited, else none; it passes
    # down its effective policy with children_inherit_policy, else what it
    # inherited as long as it has no policy key.
    if not isinstance(tree, dict):
        raise AnsibleFilterError(
            f"{_where(host)}zfs: datasets of {parent} is not a mapping of names")
    for key, node in tree.items():
        name = f"{parent}/{key}"
        if node is None:  # declared, no keys
            node = {}
        if not isinstance(node, dict):
            raise AnsibleFilterError(
                f"{_where(host)}zfs: {name} is neither a mapping nor empty")
        if "children" in node:
            raise AnsibleFilterError(
                f"{_where(host)}zfs: {name} has children: in a tree of pools; "
                "nest datasets under datasets: (the two forms cannot be mixed)")
        has, own = _own_policy(node)
        effective = (own or "none") if has else (inherited or "none")
        cip = bool(node.get("children_inherit_policy"))
        out.append({
            "name": name,
            "policy": own,
            "effective_policy": effective,
            "discover_children": bool(node.get("snapshots_discover_children")),
            "children_inherit_policy": cip,
            "section": True,
            # Own keys only: zkeep computes the inheritance from the
            # [dataset] sections by the same rule, and decides what a
            # dataset with no policy to inherit is (docs/migrating.md).
            "conf_policy": own,
        })
        if cip:
            passed = effective
        elif not has:
            passed = inherited
        else:
            passed = None
        if node.get("datasets") is not None:
            _walk_seed(node["datasets"], name, passed, out, host)
    return out


def _pools(tree, host):
    for pool, node in (tree or {}).items():
        pool = str(pool)
        if "/" in pool or not (node is None or isinstance(node, dict)):
            raise AnsibleFilterError(
                f"{_where(host)}zfs: {pool} is not a pool, but other top-level "
                "keys are pools (with datasets:); the two forms cannot be mixed")
        node = node or {}
        mixed = [k for k in DATASET_KEYS if k in node]
        if mixed:
            raise AnsibleFilterError(
                f"{_where(host)}zfs: pool {pool} has {', '.join(mixed)}: a pool "
                "root is never listed; declare its datasets under datasets:")
        yield pool, node


def zkeep_datasets(tree, host=""):
    """The tree as a list of datasets, parents first, each: name, policy
    (its own, "" for a null one, or None), effective_policy (the old
    system's rule for the form), discover_children,
    children_inherit_policy, section (whether it gets a [dataset] section)
    and conf_policy (the policy key written there, or None)."""
    if tree is None:
        return []
    if not isinstance(tree, dict):
        raise AnsibleFilterError(f"{_where(host)}zfs: is not a mapping")
    if zkeep_tree_form(tree) == "flat":
        return _walk_flat(tree, "", None, [])
    out = []
    for pool, node in _pools(tree, host):
        if node.get("datasets") is not None:
            _walk_seed(node["datasets"], pool, None, out, host)
    return out


def _declares_policy(node):
    # anywhere, under any key: what the inventory says, before any walk
    if isinstance(node, dict):
        return any(k in ("policy", "importance") or _declares_policy(v)
                   for k, v in node.items())
    if isinstance(node, list):
        return any(_declares_policy(v) for v in node)
    return False


def zkeep_tree_problems(tree, known_policies, host=""):
    """What is wrong with a host's tree, as messages naming the host (an
    empty list when nothing is): a tree that cannot be read, a dataset
    declared twice, a policy zkeep does not know, and policies declared in
    the inventory of which none reaches a dataset, which would leave the
    host's snapshots to stop without a word."""
    try:
        datasets = zkeep_datasets(tree, host)
    except AnsibleFilterError as e:
        return [str(e)]
    out = []
    seen = set()
    for d in datasets:
        if d["name"] in seen:
            out.append(f"{_where(host)}zfs: {d['name']} is declared twice")
        seen.add(d["name"])
        if d["policy"] and d["policy"] not in known_policies:
            out.append(f"{_where(host)}zfs: {d['name']} has policy '{d['policy']}', "
                       f"not one of {', '.join(known_policies)} (zkeep_policies adds more)")
    if _declares_policy(tree) and not any(d["policy"] is not None for d in datasets):
        out.append(f"{_where(host)}the zfs: inventory declares policies but no "
                   f"dataset takes one ({zkeep_tree_form(tree)} form read): the "
                   "config would manage nothing")
    return out


def zkeep_known_policies(custom):
    """The built-in policy names and those of zkeep_policies."""
    return list(BUILTIN_POLICIES) + [str(k) for k in (custom or {}) if k not in BUILTIN_POLICIES]


def zkeep_select(datasets, policies):
    """Names of the datasets whose explicit policy is one of policies (the
    old system pulls and pushes only explicitly declared ones), without
    those below another selected one (a pull is recursive)."""
    names = [d["name"] for d in datasets if d["policy"] in policies]
    return [n for n in names
            if not any(n.startswith(o + "/") for o in names if o != n)]


def zkeep_pullers_of(servers, hostvars, client, all_clients):
    """The backup servers whose zkeep_pull_clients names client (all
    clients where a server does not set it)."""
    out = []
    for s in servers:
        if "zkeep_pull_clients" in hostvars[s]:
            clients = hostvars[s]["zkeep_pull_clients"]
        else:
            clients = all_clients
        if client in clients:
            out.append(s)
    return out


def zkeep_pushers_to(servers, hostvars, offsite):
    """The backup servers whose zkeep_push_to is offsite."""
    return [s for s in servers
            if "zkeep_push_to" in hostvars[s] and hostvars[s]["zkeep_push_to"] == offsite]


def zkeep_endpoints(jobs):
    """The distinct (host, port) pairs of jobs, in order, as dicts."""
    out = []
    for j in jobs:
        e = {"host": j["host"], "port": j.get("port", "")}
        if e not in out:
            out.append(e)
    return out


class FilterModule:
    def filters(self):
        return {"zkeep_datasets": zkeep_datasets, "zkeep_select": zkeep_select,
                "zkeep_tree_form": zkeep_tree_form,
                "zkeep_tree_problems": zkeep_tree_problems,
                "zkeep_known_policies": zkeep_known_policies,
                "zkeep_pullers_of": zkeep_pullers_of, "zkeep_pushers_to": zkeep_pushers_to,
                "zkeep_endpoints": zkeep_endpoints}
