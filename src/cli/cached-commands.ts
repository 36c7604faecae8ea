// Which command line gets which V8 code cache (cli-loader.ts): its own module, so that tests read
// it without running the CLI.

/**
 * The commands that get a cache of their own (a cache file's name comes from this list, never
 * from the command line itself); test/cli/cli-loader.test.ts holds it to the CLI's own list.
 */
export const CACHED_COMMANDS = ['create', 'exec', 'ls', 'inspect', 'rm', 'prune', 'resolve', 'stub', 'diagnose', 'trace', 'demo', 'fake-dns', 'cni'] as const;

/** Global options that take a value (main.ts): their value is not the command. */
const VALUED = new Set(['--root', '--log-level']);

/** The command `argv` (after node and the script) runs, if it is one of CACHED_COMMANDS. */
export function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUED.has(a)) i++;
    else if (!a.startsWith('-')) return CACHED_COMMANDS.find((c) => c === a);
  }
  return undefined;
}
