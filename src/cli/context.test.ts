// What printJson (every --json) prints: JSON.stringify's text, with DEL, C1 and bidi controls as
// \u escapes too — the same JSON value, nothing a terminal acts on (JSON.stringify escapes C0 only).
import { describe, expect, it } from 'vitest';
import { jsonText } from './context.js';

const RAW_CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

describe('jsonText: the text printJson writes', () => {
  it('is JSON.stringify with two-space indentation and a final newline for plain values', () => {
    const value = { name: 'web', list: [1, 'two', null], nested: { ok: true, text: 'é ▶ \\ "q"' } };
    expect(jsonText(value)).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it('writes DEL, C1 and bidi controls as \\u escapes, and C0 as JSON does: the same value, no raw control', () => {
    const hostile = 'x\x1b[2J\x07.\x7f\\\u009b.\u0080\u0085\u009f\u202e\u2066.example\n\r\t';
    const value = { qname: hostile, names: [hostile], [`k\u009by\x7f`]: 1 };
    const text = jsonText(value);
    expect(RAW_CONTROLS.test(text)).toBe(false);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('\\u007f');
    expect(text).toContain('\\u009b');
    expect(text).toContain('\\u202e');
    expect(text).toContain('\\u001b');
    expect(text).toContain('\\n\\r\\t');
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('keeps every other character as it is (U+00A0 and beyond)', () => {
    const value = { s: '\u00a0ÿ€😀' };
    expect(jsonText(value)).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it('undefined (what JSON.stringify gives no text for) prints as before', () => {
    expect(jsonText(undefined)).toBe(`${JSON.stringify(undefined, null, 2)}\n`);
  });
});
