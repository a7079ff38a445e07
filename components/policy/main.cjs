/**
 * The policy pack's entry point (package.json `main`) for the Pulumi CLI's policy runner.
 *
 * `pulumi preview --policy-pack components/policy` starts `@pulumi/pulumi/cmd/run-policy-pack`
 * in this directory. That runner always registers its bundled ts-node (whatever
 * PulumiPolicy.yaml says) and then require()s `main`: ts-node cannot compile our ESM
 * TypeScript (`.ts` import paths, TS5097), and the pack's `nodeargs` never reach Node
 * (the language host passes them after the runner's path, as runner arguments). So `main`
 * is this small CommonJS file, which the runner loads without ts-node: it registers tsx's
 * ESM loader itself, as the program's dynamic providers do, and imports the TypeScript
 * pack. The runner awaits the exported promise, so a load error fails the preview.
 */
/* global module */
module.exports = import("tsx/esm").then(() => import("./index.ts"));
