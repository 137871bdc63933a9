"""Filters for the zkeep role: flatten the inventory's `zfs:` tree."""


def _walk(tree, parent, inherited, out):
    for key, node in (tree or {}).items():
        node = node or {}
        name = f"{parent}/{key}" if parent else str(key)
        own = node.get("policy")
        effective = own or inherited
        out.append({
            "name": name,
            "policy": own,
            "effective_policy": effective,
            "discover_children": bool(node.get("snapshots_discover_children", False)),
            "children_inherit_policy": bool(node.get("children_inherit_policy", False)),
        })
        passed = effective if node.get("children_inherit_policy") else None
        _walk(node.get("children"), name, passed, out)
    return out


def zkeep_datasets(tree):
    """The tree as a list of datasets, parents first: name, policy (as
    written, or None), effective_policy (inherited through
    children_inherit_policy), discover_children, children_inherit_policy."""
    return _walk(tree, "", None, [])


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
                "zkeep_pullers_of": zkeep_pullers_of, "zkeep_pushers_to": zkeep_pushers_to,
                "zkeep_endpoints": zkeep_endpoints}
