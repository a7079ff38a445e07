/**
 * The Pulumi program: validates the stack config first (nothing is created when it is
 * invalid), then composes the platform for the stack's profile.
 *
 * Two ways in: the Automation API runs it inline (stacks/workspace.ts, used by
 * scripts/local and the tests), and the Pulumi CLI runs `stacks/index.ts`, the project's
 * `main`, which default-exports it.
 */
import { readStackConfig } from "./read-config.ts";
import { localPlatform } from "./local.ts";
import { cloudPlatform } from "./cloud/index.ts";

export async function workbenchProgram(): Promise<Record<string, unknown>> {
  const config = readStackConfig();
  switch (config.profile) {
    case "local":
      return localPlatform(config);
    case "cloud":
      return cloudPlatform(config);
  }
}
