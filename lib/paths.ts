import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where Pulumi.yaml is). */
export const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
