/** Command-line arguments shared by the scripts. */

/**
 * The stack named by `--stack <name>`, the only argument `npm run <command>` takes;
 * anything else is a usage error naming what was given.
 */
export function stackArgument(argv: readonly string[], command: string): string {
  const index = argv.indexOf("--stack");
  const stack = index >= 0 ? argv[index + 1] : undefined;
  const unknown = argv.filter((_arg, position) => position !== index && position !== index + 1);
  if (!stack || stack.startsWith("-") || unknown.length > 0) {
    throw new Error(
      `usage: npm run ${command} -- --stack <name>   (e.g. --stack prod; got: ${argv.join(" ") || "nothing"})`,
    );
  }
  return stack;
}
