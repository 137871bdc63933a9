#!/usr/bin/python3
"""Validates api bodies against docs/schema (made from docs/openapi.json by
scripts/api-schemas) with a real JSON Schema validator (python3-jsonschema,
draft 2020-12; an integer must be written as one). Used by api_check.py in the VM and by
tests/host/t_api_schema.sh on bodies the unit tests produce.

    api_schema.py SCHEMA_DIR BODIES.tsv    (lines: path template, status, file)
"""
import json
import os
import sys

import jsonschema

# JSON Schema counts 3.0 as an integer; the seed's clients get a Python int
# there, so a body that writes 3.0 for an integer is refused.
STRICT = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool)))


class Schemas:
    def __init__(self, directory):
        self.dir = directory
        self.index = json.load(open(os.path.join(directory, "index.json")))
        self.validators = {}
        self.seen = set()

    def validator(self, name):
        if name not in self.validators:
            s = json.load(open(os.path.join(self.dir, name)))
            jsonschema.Draft202012Validator.check_schema(s)
            self.validators[name] = STRICT(s)
        return self.validators[name]

    def check(self, template, status, body):
        """None when body is what the document says GET template answers
        with status, else why not."""
        name = self.index.get(template, {}).get(str(status))
        if not name:
            return "GET %s: status %s is not in the document" % (template, status)
        errors = sorted(self.validator(name).iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            return "GET %s (%s, %s): %s" % (template, status, name, "; ".join(
                "%s: %s" % ("/".join(map(str, e.absolute_path)) or "(body)", e.message)
                for e in errors[:5]))
        self.seen.add((template, str(status)))
        return None

    def unchecked_200(self):
        return sorted(p for p, st in self.index.items() if "200" in st and (p, "200") not in self.seen)


def main():
    schemas = Schemas(sys.argv[1])
    bad = n = 0
    for line in open(sys.argv[2]):
        template, status, path = line.rstrip("\n").split("\t")[:3]
        n += 1
        why = schemas.check(template, status, json.load(open(path)))
        if why:
            print("FAIL: " + why, file=sys.stderr)
            bad += 1
    missing = schemas.unchecked_200()
    if missing:
        print("FAIL: no 200 body validated for %s" % ", ".join(missing), file=sys.stderr)
        bad += 1
    print("%d bodies validated, %d failures" % (n, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
