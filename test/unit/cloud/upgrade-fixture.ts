/**
 * The prod stack as commit 21b10b6 registered it (fixtures/prod-urns-21b10b6.json), and how
 * today's registrations take over from it: a resource keeps its URN, or one alias of it
 * resolves to the old URN (then `pulumi up` moves it in state instead of replacing it).
 */
import { readFileSync } from "node:fs";
import type { MockRecorder, RecordedResource } from "../../helpers/pulumi-mocks.ts";

export interface SecretShape {
  name: string;
  namespace: string;
  type: string;
  keys: string[];
}

interface Recorded {
  urns: string[];
  secrets: Record<string, SecretShape>;
}

export const BEFORE = JSON.parse(
  readFileSync(new URL("./fixtures/prod-urns-21b10b6.json", import.meta.url), "utf8"),
) as { commit: string; full: Recorded; firstDeploy: Recorded };

/** The hub every workbench Secret lived in at 21b10b6 (removed: each component owns its Secrets). */
export const HUB_URN =
  "urn:pulumi:prod::ai-workbench::workbench:kubernetes:WorkbenchSecrets::workbench-prod-secrets";

/** Old URN → the resource that takes it over now (same URN or an alias), and the old URNs nothing takes over. */
export function successors(before: Recorded, mocks: MockRecorder) {
  const taken = new Map<string, RecordedResource>();
  const gone: string[] = [];
  for (const urn of before.urns) {
    const same = mocks.byUrn(urn);
    const aliased = mocks.resources.filter((resource) => resource.aliases.includes(urn));
    if (same && aliased.length > 0)
      throw new Error(`${urn} is registered and also aliased by ${aliased[0]?.urn}`);
    if (aliased.length > 1) throw new Error(`${urn} is aliased by ${aliased.length} resources`);
    const successor = same ?? aliased[0];
    if (successor) taken.set(urn, successor);
    else gone.push(urn);
  }
  return { taken, gone };
}

/** A recorded Secret's shape: object name, namespace, type and data keys (values aside). */
export function secretShape(secret: RecordedResource): SecretShape {
  return {
    name: secret.inputs["metadata"]["name"],
    namespace: secret.inputs["metadata"]["namespace"],
    type: secret.inputs["type"],
    keys: Object.keys(secret.inputs["stringData"] ?? {}).sort(),
  };
}
