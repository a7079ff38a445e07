/**
 * Where scripts/install-litellm puts the LiteLLM venv: `<cache>/venv/litellm-<hash>`, the
 * hash over python/litellm/requirements.txt and constraints.txt (the same rule as the
 * script's `litellm_venv_dir`; a test holds the two to each other).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../paths.ts";

/** The files the venv is built from, relative to the repo root. */
export const LITELLM_PIN_FILES = [
  "python/litellm/requirements.txt",
  "python/litellm/constraints.txt",
] as const;

/** First 12 hex digits of sha256 over the pin files' bytes, concatenated in order. */
export function litellmVenvHash(repoRoot: string): string {
  const hash = createHash("sha256");
  for (const file of LITELLM_PIN_FILES) hash.update(readFileSync(join(repoRoot, file)));
  return hash.digest("hex").slice(0, 12);
}

export function litellmVenvDir(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), "venv", `litellm-${litellmVenvHash(repoRoot)}`);
}

/** The pinned LiteLLM version (requirements.txt's `litellm[proxy]==X`). */
export function pinnedLiteLlmVersion(repoRoot: string): string {
  const text = readFileSync(join(repoRoot, LITELLM_PIN_FILES[0]), "utf8");
  const found = /^litellm\[proxy\]==(\S+)/m.exec(text);
  if (!found?.[1]) throw new Error(`${LITELLM_PIN_FILES[0]} pins no 'litellm[proxy]==<version>'`);
  return found[1];
}
