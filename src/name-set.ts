/** Whether a name is one of a fixed set (header names, methods). */
export interface NameSet {
  has(name: string): boolean;
}

/**
 * A fixed set of names, asked with strings made for each request: uWS makes every method and
 * header name a new string, and a Set must hash one before it can look it up (17 ns a name,
 * micro-benchmark; the hash stays with that string alone). Grouped by length, most names are
 * answered by their length, the rest by comparing the few names as long as they are.
 */
export class FreshNameSet implements NameSet {
  readonly #byLength: (string[] | undefined)[] = [];

  constructor(names: Iterable<string>) {
    for (const name of names) {
      const same = (this.#byLength[name.length] ??= []);
      if (!same.includes(name)) same.push(name);
    }
  }

  has(name: string): boolean {
    const same = this.#byLength[name.length];
    return same !== undefined && same.includes(name);
  }
}

/**
 * Fixed names, each of a kind (a small number above 0), asked as FreshNameSet is: one lookup
 * tells a name's kind, where asking two sets would cost two.
 */
export class FreshNameKinds {
  readonly #byLength: (Array<readonly [string, number]> | undefined)[] = [];

  constructor(kinds: Iterable<readonly [string, number]>) {
    for (const entry of kinds) (this.#byLength[entry[0].length] ??= []).push(entry);
  }

  /** The name's kind; 0 for a name it does not hold. */
  kind(name: string): number {
    const same = this.#byLength[name.length];
    if (same === undefined) return 0;
    for (let i = 0; i < same.length; i++) if (same[i]![0] === name) return same[i]![1];
    return 0;
  }
}
