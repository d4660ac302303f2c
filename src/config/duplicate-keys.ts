/**
 * The first key that appears twice in one object of a JSON text that parses, as a path
 * (`clusters.api`), or null. JSON.parse keeps the last silently: a cluster written twice would lose
 * the first one's nodes, a setting written twice its first value, without a word.
 */
export function firstDuplicateKey(text: string): string | null {
  // One entry per open container: an object's keys so far and the key whose value is being read,
  // or an array's index.
  const stack: ({ keys: Set<string>; key: string | null; expectKey: boolean } | { index: number })[] = [];
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    const top = stack.at(-1);
    if (char === '"') {
      const end = stringEnd(text, at);
      if (top !== undefined && 'keys' in top && top.expectKey) {
        const key = JSON.parse(text.slice(at, end + 1)) as string;
        if (top.keys.has(key)) return pathOf(stack.slice(0, -1), key);
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      at = end;
    } else if (char === '{') stack.push({ keys: new Set(), key: null, expectKey: true });
    else if (char === '[') stack.push({ index: 0 });
    else if (char === '}' || char === ']') stack.pop();
    else if (char === ',' && top !== undefined) {
      if ('keys' in top) top.expectKey = true;
      else top.index++;
    }
  }
  return null;
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
  return at;
}

function pathOf(stack: readonly ({ key: string | null } | { index: number })[], last: string): string {
  const parts = stack.map((entry) => ('index' in entry ? `[${entry.index}]` : `.${entry.key}`));
  return [...parts, `.${last}`].join('').replace(/^\./, '');
}
