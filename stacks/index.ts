/**
 * The Pulumi program: validates the stack config first (nothing is created when it is
 * invalid), then composes the platform for the stack's profile.
 *
 * Run through the Automation API by scripts/local and the tests (stacks/workspace.ts),
 * or by the Pulumi CLI as the project's `main`.
 */
import { readStackConfig } from "./read-config.ts";
import { localPlatform } from "./local.ts";
import { cloudPlatform } from "./prod.ts";

export async function workbenchProgram(): Promise<Record<string, unknown>> {
  const config = readStackConfig();
  switch (config.profile) {
    case "local":
      return localPlatform(config);
    case "cloud":
      return cloudPlatform(config);
  }
}

export default workbenchProgram;
