import { RawFields } from '../../src/upstream/raw-fields.js';

/** `fields` as [name, value, …] text (latin1), to compare. */
export function fieldTexts(fields: RawFields): string[] {
  const texts: string[] = [];
  for (let s = 0; s < fields.spans.length; s += 2) texts.push(fields.text(fields.spans[s]!, fields.spans[s + 1]!));
  return texts;
}

/** Fields from [name, value, …] (text as latin1, or bytes as they are). */
export function rawFields(...list: (string | Uint8Array)[]): RawFields {
  return RawFields.fromList(list.map((field) => (typeof field === 'string' ? Buffer.from(field, 'latin1') : field)));
}
