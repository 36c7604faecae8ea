// Names and lines printed for humans: dig's \DDD for names, terminal controls never raw.
import { describe, expect, it } from 'vitest';
import { presentName, safeJson, safeLine } from './escape.js';

describe('presentName: a DNS name as dig prints it', () => {
  it.each([
    ['db.example', 'db.example'],
    ['a\x1b[2Jb.example', 'a\\027[2Jb.example'],
    ['bell\x07', 'bell\\007'],
    ['del\x7f.nul\x00', 'del\\127.nul\\000'],
    ['back\\slash', 'back\\092slash'],
    ['two words', 'two\\032words'],
    ['line\nbreak\r', 'line\\010break\\013'],
    ['csi\u009b', 'csi\\194\\155'],
    ['bücher.example', 'b\\195\\188cher.example'],
    ['\u{1f600}', '\\240\\159\\152\\128'], // one code point, four bytes
    ['\ufffd', '\\239\\191\\189'], // what a byte that is not UTF-8 decodes to
  ])('%j → %s', (name, shown) => {
    expect(presentName(name)).toBe(shown);
  });
});

describe('safeLine and safeJson: nothing a terminal acts on', () => {
  it('safeLine writes C0 (line breaks too), DEL, C1 and bidi controls as \\DDD and keeps the rest', () => {
    expect(safeLine('ok ▶●✗ → é \\ x')).toBe('ok ▶●✗ → é \\ x');
    expect(safeLine('a\x1bb\nc\x7fd\u009be\u202ef')).toBe('a\\027b\\010c\\127d\\194\\155e\\226\\128\\174f');
  });

  it('safeJson keeps the JSON value and escapes DEL, C1 and bidi controls as \\u', () => {
    const value = { qname: 'x\x1b\x7f\u009b\u202e\\"y' };
    const text = safeJson(JSON.stringify(value));
    expect(text).toBe('{"qname":"x\\u001b\\u007f\\u009b\\u202e\\\\\\"y"}');
    expect(JSON.parse(text)).toEqual(value);
    expect(/[\x00-\x1f\x7f-\x9f]/.test(text)).toBe(false);
  });
});
