// Which command line gets which V8 code cache (cli-loader.ts): its own module, so that tests read
// it without running the CLI.

/**
 * The commands that get a cache of their own (a cache file's name comes from this list, never
 * from the command line itself); test/cli/cli-loader.test.ts holds it to the CLI's own list.
 */
export const CACHED_COMMANDS = ['create', 'exec', 'ls', 'inspect', 'rm', 'prune', 'resolve', 'stub', 'diagnose', 'trace', 'demo', 'fake-dns', 'cni'] as const;

/** Global options that take a value (main.ts): their value is not the command. */
const VALUED = new Set(['--root', '--log-level']);

/**
 * The cache for `argv` (after node and the script): its command, if one of CACHED_COMMANDS and
 * not a request for help; run under V8 flags (the stub daemon's heap limits), a cache of its own
 * — V8 rejects a cache made under other flags, and the daemon and `tsnet stub status` would
 * replace each other's at every run.
 */
export function cacheNameOf(argv: readonly string[], execArgv: readonly string[] = []): string | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return undefined;
  const command = commandOf(argv);
  if (command === undefined || execArgv.length === 0) return command;
  return `${command}-${fnv1a(execArgv.join(' ')).toString(16)}`;
}

/** The command `argv` runs, if it is one of CACHED_COMMANDS. */
export function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUED.has(a)) i++;
    else if (!a.startsWith('-')) return CACHED_COMMANDS.find((c) => c === a);
  }
  return undefined;
}

/** 32-bit FNV-1a: a file name for a set of flags (node:crypto would cost the loader its load). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
