"""Turn a CustomResourceDefinition's OpenAPI schema into a JSON schema for validate_manifests.py.

    python deploy/checks/crd_schema.py CRD.yaml VERSION > deploy/checks/schemas/<group>_<kind>_<version>.json

Objects with declared properties get ``additionalProperties: false`` (unless the CRD preserves unknown fields
there), so a misspelt field fails as it does under ``kubectl apply --validate=strict``. Run once per vendored
CRD; the source of each schema is written into its ``$comment``.
"""

import json
import sys
from typing import Any

import yaml


def strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: strict(value) for key, value in node.items()}
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [strict(item) for item in node]
    return node


def main() -> None:
    path, version = sys.argv[1], sys.argv[2]
    source = sys.argv[3] if len(sys.argv) > 3 else path
    with open(path, encoding="utf-8") as file:
        crd = yaml.safe_load(file)
    spec = crd["spec"]
    (served,) = [v for v in spec["versions"] if v["name"] == version]
    schema = strict(served["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}  # checked by the API server, not the CRD
    document = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": f"{spec['group']}/{version} {spec['names']['kind']}, from {source}",
        **schema,
    }
    json.dump(document, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
