import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Node defines the globals `Buffer` and `performance` as getters on globalThis, and optimized code
 * still calls the getter at every use (a LoadGlobalIC and the getter's frame: about 6 ns a use,
 * ~1% of a get-1k request's CPU in perf). Taken from their modules, they are plain bindings. One
 * rule for every file that names them (a use as a type only costs nothing, but is not told apart).
 */
const MODULES: Readonly<Record<string, string>> = { Buffer: 'node:buffer', performance: 'node:perf_hooks' };

const SRC = new URL('../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The globals of MODULES that `file` names, and those it imports (as values) from their modules. */
function namedAndImported(file: string): { named: Set<string>; imported: Set<string> } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const named = new Set<string>();
  const imported = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const from = (node.moduleSpecifier as ts.StringLiteral).text;
      const bindings = node.importClause?.isTypeOnly ? undefined : node.importClause?.namedBindings;
      if (bindings !== undefined && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          const name = (element.propertyName ?? element.name).text;
          if (!element.isTypeOnly && MODULES[name] === from) imported.add(name);
        }
      }
      return;
    }
    // A name of its own: not a property (`x.Buffer`, `{ Buffer: … }`) nor a declaration of that name.
    if (ts.isIdentifier(node) && MODULES[node.text] !== undefined) {
      const parent = node.parent;
      const isProperty = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node);
      if (!isProperty) named.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { named, imported };
}

describe('module globals', () => {
  it('every source file naming Buffer or performance imports it from its module', () => {
    const missing: string[] = [];
    for (const file of sources(SRC)) {
      const { named, imported } = namedAndImported(file);
      for (const name of named) if (!imported.has(name)) missing.push(`${file.slice(SRC.length)}: ${name}`);
    }
    expect(missing).toEqual([]);
  });
});
