"""Validate rendered Kubernetes manifests offline, strictly (unknown fields fail, as with kubectl's strict field
validation):

- built-in kinds against the Kubernetes schemas that the kubernetes-validate package ships, for each version given;
- the custom resources Izlek uses (CloudNativePG's Cluster and Database) against the JSON schemas vendored in
  deploy/checks/schemas/, made from the operator's CRDs by crd_schema.py;
- any other kind fails: a new custom resource needs its schema vendored first.

    python validate_manifests.py --kubernetes 1.30 --kubernetes 1.37 rendered.yaml ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

SCHEMAS = Path(__file__).resolve().parent / "schemas"

CUSTOM_RESOURCES = {
    ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io_cluster_v1.json",
    ("postgresql.cnpg.io/v1", "Database"): "postgresql.cnpg.io_database_v1.json",
}


def describe(resource: dict) -> str:
    metadata = resource.get("metadata") or {}
    namespace = metadata.get("namespace")
    return f"{resource.get('kind')}/{(namespace + '/') if namespace else ''}{metadata.get('name')}"


def custom_resource_errors(resource: dict) -> list[str] | None:
    schema_file = CUSTOM_RESOURCES.get((resource.get("apiVersion"), resource.get("kind")))
    if schema_file is None:
        return None
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in sorted(validator.iter_errors(resource), key=lambda e: list(map(str, e.absolute_path)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes", action="append", required=True, help="a Kubernetes version, e.g. 1.30")
    parser.add_argument("files", nargs="+", type=Path)
    options = parser.parse_args()

    failures = 0
    for path in options.files:
        resources = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
        built_in = custom = invalid = 0
        for resource in resources:
            errors = custom_resource_errors(resource)
            if errors is not None:
                custom += 1
            else:
                built_in += 1
                errors = []
                for version in options.kubernetes:
                    try:
                        kubernetes_validate.validate(resource, version, strict=True)
                    except kubernetes_validate.ValidationError as error:
                        errors.append(f"Kubernetes {version}: {'/'.join(map(str, error.path)) or '(root)'}: "
                                      f"{error.message}")
                    except kubernetes_validate.SchemaNotFoundError:
                        errors.append(f"Kubernetes {version}: no schema for {resource.get('apiVersion')} "
                                      f"{resource.get('kind')} (a custom resource needs its schema vendored)")
            for error in errors:
                print(f"{path}: {describe(resource)}: {error}")
            invalid += bool(errors)
        if invalid:
            print(f"{path}: {invalid} of {len(resources)} resources invalid")
        else:
            summary = (f"{path}: {built_in} resources valid against the schemas of Kubernetes "
                       f"{' and '.join(options.kubernetes)}")
            if custom:
                summary += f", {custom} custom resources against their vendored schemas"
            print(summary)
        failures += invalid
    if failures:
        print(f"{failures} invalid resources")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
