import { describe, expect, it } from 'vitest';
import { RawFields } from '../../src/upstream/raw-fields.js';
import { fieldTexts } from '../helpers/raw-fields.js';

describe('RawFields', () => {
  it("copies a [name, value, …] list into one buffer, four offsets a field", () => {
    const fields = RawFields.fromList([Buffer.from('ETag'), Buffer.from('"a"'), Buffer.from('X-Empty'), Buffer.alloc(0)]);
    expect(fields.bytes.toString('latin1')).toBe('ETag"a"X-Empty');
    expect(fields.spans).toEqual([0, 4, 4, 7, 7, 14, 14, 14]);
    expect(fields.text(4, 7)).toBe('"a"');
  });

  it('reads its bytes one character a byte', () => {
    const fields = new RawFields(Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9]), [0, 3, 3, 5]);
    expect(fields.text(3, 5)).toBe('\u00c3\u00a9');
  });

  it('drops the fields a set names, in any letter case, keeping the order of the others', () => {
    const fields = RawFields.fromList(['A', '1', 'X-Trace', '2', 'b', '3', 'x-trace', '4', 'C', '5'].map((text) => Buffer.from(text)));
    fields.dropNamed(new Set(['x-trace', 'b']));
    expect(fieldTexts(fields)).toEqual(['A', '1', 'C', '5']);
    fields.dropNamed(new Set(['a', 'c']));
    expect(fields.spans).toEqual([]);
  });
});
