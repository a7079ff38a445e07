/**
 * The project's `main` (Pulumi.yaml) for the Pulumi CLI: `pulumi up`/`preview` run it
 * through `@pulumi/pulumi/cmd/run`, which calls a default-exported function and takes
 * what it returns as the stack outputs.
 *
 * The runner refuses a module with both a default export and named exports, so this
 * module has the default export only; code that needs the program imports it from
 * ./program.ts (the Automation API does).
 */
import { workbenchProgram } from "./program.ts";

export default workbenchProgram;
