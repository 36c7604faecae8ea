// koffi's native module loaded directly (the short-lived CNI plugin's fast path): the module
// koffi's own loader would pick, at koffi's version, and working.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadKoffi } from './koffi.js';

describe('loading koffi', () => {
  it('takes the native module directly on this machine, the same one koffi itself loads', () => {
    const direct = loadKoffi() as unknown as Record<string, unknown>;
    const viaKoffi = createRequire(import.meta.url)('koffi') as Record<string, unknown>;
    // koffi's loader returns a wrapper object whose `default` is the native module it loaded
    expect(viaKoffi.default).toBe(direct);
    expect(direct.version).toBe(viaKoffi.version);
  });

  it('calls into libc through it', () => {
    const getpid = loadKoffi().load('libc.so.6').func('int getpid()');
    expect(getpid()).toBe(process.pid);
  });
});
