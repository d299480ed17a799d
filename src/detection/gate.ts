import type { FieldMatch, SearchNode } from './model.js';

/**
 * A condition a record must meet for a rule to have any chance of matching: the field holds at least one
 * of `wanted` (lower-cased). Most rules pin `eventSource` and `eventName` to a few values, so the evaluator
 * checks a rule's gates first, a set lookup each, and skips the full test on every other record.
 */
export interface Gate {
  path: string;
  wanted: Set<string>;
}

/**
 * The gates a search tree implies (all must hold), none for a rule that may match any record. Sound by
 * construction: each only ever widens the condition it is derived from. `resolve` gives a match's document
 * path and its values as the document holds them (after any value translation).
 */
export function gatesOf(
  node: SearchNode,
  resolve: (m: FieldMatch) => { path: string; values: FieldMatch['values'] },
): Gate[] {
  switch (node.kind) {
    case 'match': {
      // Equality, cased or not, implies equality of the lower-cased forms. With no values, `|all` holds
      // vacuously, so there is nothing to require.
      if (node.op !== 'eq' || node.values.length === 0) return [];
      const { path, values } = resolve(node);
      return [{ path, wanted: new Set(values.map((v) => String(v).toLowerCase())) }];
    }
    case 'and':
      return node.items.flatMap((item) => gatesOf(item, resolve));
    case 'or': {
      // A field gated in every branch must hold one of the values any branch wants.
      const branches = node.items.map((item) => gatesOf(item, resolve));
      const paths = new Set(branches[0]?.map((g) => g.path));
      const gates: Gate[] = [];
      for (const path of paths) {
        if (!branches.every((b) => b.some((g) => g.path === path))) continue;
        const wanted = new Set<string>();
        for (const b of branches)
          for (const g of b) if (g.path === path) for (const w of g.wanted) wanted.add(w);
        gates.push({ path, wanted });
      }
      return gates;
    }
    case 'not':
    case 'const':
      return [];
  }
}
