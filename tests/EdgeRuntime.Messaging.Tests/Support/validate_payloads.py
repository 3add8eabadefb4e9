"""Validates JSON payloads against the MQTT payload schemas with python-jsonschema, the reference implementation of
JSON Schema draft 2020-12 (format "date-time" asserted, not just annotated).

Usage: validate_payloads.py SCHEMA_FOLDER < items
Each input line: {"schema": "result.schema.json", "definition": null | "pingResult", "instance": <payload>}.
Each output line: a JSON array of the errors found in that instance ("path: message"), empty when it is valid.
Every schema file in the folder is first checked against the 2020-12 meta-schema; a bad schema exits with status 2.
"""
import datetime
import json
import pathlib
import re
import sys

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
checker = FormatChecker(formats=())


@checker.checks("date-time")
def is_date_time(value):
    # Own check so the result does not depend on which optional format packages are installed.
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def load(folder):
    schemas = {}
    for path in sorted(pathlib.Path(folder).glob("*.schema.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        try:
            Draft202012Validator.check_schema(document)
        except jsonschema.SchemaError as error:
            print(f"{path.name}: not a valid 2020-12 schema: {error.message}", file=sys.stderr)
            sys.exit(2)
        schemas[path.name] = document
    return schemas


def make_validator(schemas, name, definition):
    document = schemas[name]
    if definition:
        # The definition, resolved inside its own document.
        document = {"$schema": document["$schema"], "$id": document["$id"] + "-" + definition,
                    "$defs": document["$defs"], "$ref": "#/$defs/" + definition}
    try:
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012
        registry = Registry().with_resources(
            (schema["$id"], DRAFT202012.create_resource(schema)) for schema in schemas.values())
        return Draft202012Validator(document, registry=registry, format_checker=checker)
    except ImportError:
        # jsonschema before 4.18 (Debian's python3-jsonschema) resolves through a store.
        store = {schema["$id"]: schema for schema in schemas.values()}
        resolver = jsonschema.RefResolver.from_schema(document, store=store)
        return Draft202012Validator(document, resolver=resolver, format_checker=checker)


def main():
    schemas = load(sys.argv[1])
    validators = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        item = json.loads(line)
        key = (item["schema"], item.get("definition"))
        if key not in validators:
            validators[key] = make_validator(schemas, *key)
        errors = sorted(validators[key].iter_errors(item["instance"]), key=lambda e: list(map(str, e.absolute_path)))
        print(json.dumps(["/" + "/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors]), flush=True)


if __name__ == "__main__":
    main()
