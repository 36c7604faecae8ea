// A CNI plugin's stdin, whole, bounded in size and time: a runtime that never closes it must not
// hang the plugin. Its own module: the plugin's thin client (cni-loader.ts) loads only this.

export class StdinError extends Error {}

/** A network configuration list is kilobytes; anything past this is not one. */
export const STDIN_MAX_BYTES = 1 << 20;
/** How long the plugin waits for the runtime to finish writing the configuration. */
export const STDIN_DEADLINE_MS = 10_000;

export function readStdinText(maxBytes: number, deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: StdinError) => {
      clearTimeout(timer);
      process.stdin.removeAllListeners('data').removeAllListeners('end').removeAllListeners('error');
      process.stdin.pause();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(() => done(new StdinError(`the configuration on stdin did not end within ${deadlineMs / 1000} s`)), deadlineMs);
    process.stdin.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) return done(new StdinError(`the configuration on stdin is larger than ${maxBytes} bytes`));
      chunks.push(c);
    });
    process.stdin.on('end', () => done());
    process.stdin.on('error', (e) => done(new StdinError(`cannot read the configuration on stdin: ${e.message}`)));
  });
}
