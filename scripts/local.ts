/**
 * The main job: brings the `local` stack up on this machine (or previews, or tears it
 * down) through the Automation API, and prints a summary.
 *
 *   npm run local                 up (a re-run with nothing changed is a no-op)
 *   npm run local -- --preview    show what would change
 *   npm run local -- --destroy    remove everything the stack created and stop the server
 *
 * Run through scripts/local, which bootstraps and starts PostgreSQL first.
 */
import type { OutputMap } from "@pulumi/pulumi/automation/index.js";
import { execa } from "execa";
import { join } from "node:path";
import { localServer } from "../stacks/local-server.ts";
import { openStack, REPO_ROOT } from "../stacks/workspace.ts";

type Mode = "up" | "preview" | "destroy";

function parseMode(argv: string[]): Mode {
  const modes = argv.filter((arg) => ["--preview", "--destroy"].includes(arg));
  const unknown = argv.filter((arg) => !["--preview", "--destroy"].includes(arg));
  if (unknown.length > 0 || modes.length > 1) {
    throw new Error(`usage: npm run local [-- --preview | --destroy] (got: ${argv.join(" ")})`);
  }
  return modes[0] === "--preview" ? "preview" : modes[0] === "--destroy" ? "destroy" : "up";
}

const timings: [string, number][] = [];
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  process.stdout.write(`\n==> ${label}\n`);
  try {
    return await work();
  } finally {
    timings.push([label, (Date.now() - started) / 1000]);
  }
}

/** Non-secret outputs as text; secrets are named but never printed. */
function describeOutputs(outputs: OutputMap): string[] {
  return Object.entries(outputs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, output]) => `  ${key.padEnd(16)} ${output.secret ? "[secret]" : JSON.stringify(output.value)}`);
}

function describeChanges(changes: Record<string, number> | undefined): string {
  const entries = Object.entries(changes ?? {});
  return entries.length === 0 ? "none" : entries.map(([kind, count]) => `${count} ${kind}`).join(", ");
}

async function main(): Promise<void> {
  const mode = parseMode(process.argv.slice(2));
  const server = await localServer();
  const stack = await timed("open stack 'local'", () =>
    openStack({ stackName: "local", secrets: { databasePassword: server.password } }),
  );
  const onOutput = (text: string) => process.stdout.write(text);
  const summary: string[] = [];

  if (mode === "preview") {
    const result = await timed("pulumi preview", () => stack.preview({ onOutput, diff: true }));
    summary.push(`changes: ${describeChanges(result.changeSummary)}`);
  } else if (mode === "destroy") {
    const result = await timed("pulumi destroy", () => stack.destroy({ onOutput }));
    summary.push(`resources: ${describeChanges(result.summary.resourceChanges)}`);
    await timed("stop PostgreSQL", () =>
      execa("bash", [join(REPO_ROOT, "scripts/local-postgres"), "stop"], { stdio: "inherit" }),
    );
  } else {
    const result = await timed("pulumi up", () => stack.up({ onOutput }));
    summary.push(`resources: ${describeChanges(result.summary.resourceChanges)}`, "outputs:");
    summary.push(...describeOutputs(result.outputs));
    summary.push(
      "",
      "next:",
      "  scripts/local-postgres psql              open psql on the local server",
      "  npm run local -- --preview               show what a change would do",
      "  npm run local -- --destroy               remove everything and stop the server",
    );
  }

  console.log(`\n==> summary (${mode})`);
  for (const line of summary) console.log(line);
  console.log("elapsed:");
  for (const [label, seconds] of timings) console.log(`  ${label.padEnd(24)} ${seconds.toFixed(1)}s`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`\nerror: ${message}`);
  if (message.includes("invalid stack configuration")) {
    console.error("fix the keys named above in Pulumi.local.yaml and re-run; nothing was changed.");
  } else if (/locked by/i.test(message)) {
    console.error(
      "another update holds the stack lock. If none is running, the lock is stale: delete the " +
        "lock file named above (under the cache's pulumi-state/.pulumi/locks) and re-run.",
    );
  }
  process.exit(1);
});
