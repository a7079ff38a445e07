"""Validate a JSON list of Kubernetes objects against one version's strict schemas."""

import json
import sys

import kubernetes_validate
from kubernetes_validate.utils import (
    InvalidSchemaError,
    SchemaNotFoundError,
    ValidationError,
    VersionNotSupportedError,
)


def main(version: str, path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        objects = json.load(handle)
    results = []
    for index, obj in enumerate(objects):
        errors = []
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except ValidationError as error:
            place = "/".join(str(part) for part in error.absolute_path) or "(root)"
            errors.append(f"{place}: {error.message}")
        except (SchemaNotFoundError, InvalidSchemaError, VersionNotSupportedError) as error:
            errors.append(f"no schema: {error.message}")
        results.append(
            {
                "index": index,
                "kind": obj.get("kind"),
                "name": (obj.get("metadata") or {}).get("name"),
                "errors": errors,
            }
        )
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
