import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, type StackConfig } from "./config.ts";

// `isConfigSecret` is exported by the runtime but missing from its type declarations.
const runtime = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };

/** Reads and validates this stack's `workbench:*` config; throws before any resource exists. */
export function readStackConfig(): StackConfig {
  const raw = pulumi.runtime.allConfig();
  const secretKeys = new Set(Object.keys(raw).filter((key) => runtime.isConfigSecret(key)));
  return parseStackConfig(raw, secretKeys);
}
