/**
 * What serving derives from one model version once, so a request touches a bounded candidate set instead
 * of every item: items in popularity order (overall and per category), each item's normalised popularity,
 * the merged item-to-item rows of the product-page surfaces (built on first use per item), and the live
 * sellable flag of every item (active and in stock), kept current from catalogue changes.
 *
 * Everything is per model version: a swapped-in model gets a fresh index, and nothing here holds a
 * subject id.
 */
import type { Neighbours } from './algorithms/types.ts';
import type { ServingModel } from './serving-model.ts';

/** An item list with a score per item, best first. */
export type ScoredItems = { readonly items: Int32Array; readonly scores: Float64Array };

export type ServingIndex = {
  readonly model: ServingModel;
  readonly version: number;
  /** Every item, most popular first (ties by index), items never seen at the end. */
  readonly popularOrder: Int32Array;
  /** popularity / max popularity (0..1). */
  readonly popularityNorm: Float64Array;
  /** Items of each (leaf) category, most popular first. */
  readonly byCategory: ReadonlyMap<string, Int32Array>;
  /** 1: active and in stock in the catalogue (0 also for items the catalogue no longer has). */
  readonly sellable: Uint8Array;
  /** `similar` / `bought-together` candidates for a page item (merged, normalised rows). */
  pageRow(surface: 'similar' | 'bought-together', item: number): ScoredItems;
  /**
   * The items MMR treats as similar to `item`, with the similarity: the larger of behaviour (item-kNN)
   * and content similarity, in either direction of the neighbour lists (unordered).
   */
  diversityRow(item: number): ScoredItems;
};

/** Reverse neighbour lists: for item i, the items whose rows list i, with the value. */
function transpose(nb: Neighbours): Neighbours {
  const counts = new Int32Array(nb.nItems + 1);
  for (let p = 0; p < nb.indices.length; p++) counts[nb.indices[p]! + 1]!++;
  for (let i = 0; i < nb.nItems; i++) counts[i + 1]! += counts[i]!;
  const fill = counts.slice(0, nb.nItems);
  const indices = new Int32Array(nb.indices.length);
  const values = new Float32Array(nb.indices.length);
  for (let a = 0; a < nb.nItems; a++)
    for (let p = nb.indptr[a]!; p < nb.indptr[a + 1]!; p++) {
      const at = fill[nb.indices[p]!]!++;
      indices[at] = a;
      values[at] = nb.values[p]!;
    }
  return { nItems: nb.nItems, indptr: counts, indices, values };
}

/** The union of `item`'s rows in `tables`, keeping the largest value per item. */
function maxRows(item: number, tables: readonly Neighbours[]): ScoredItems {
  const items: number[] = [];
  const scores: number[] = [];
  for (const nb of tables) {
    if (item < 0 || item >= nb.nItems) continue;
    if (slots.length < nb.nItems) slots = new Int32Array(nb.nItems).fill(-1);
    for (let p = nb.indptr[item]!; p < nb.indptr[item + 1]!; p++) {
      const i = nb.indices[p]!;
      const v = nb.values[p]!;
      const at = slots[i]!;
      if (at >= 0) {
        if (v > scores[at]!) scores[at] = v;
      } else {
        slots[i] = items.length;
        items.push(i);
        scores.push(v);
      }
    }
  }
  for (const i of items) slots[i] = -1;
  return { items: Int32Array.from(items), scores: Float64Array.from(scores) };
}

/** Item → position in the row being merged (−1: not in it), reset after each merge. */
let slots = new Int32Array(0);

/** Two neighbour rows of `item`, each scaled to a maximum of its weight and summed (as `addInto` does). */
function mergeRows(item: number, parts: readonly (readonly [Neighbours, number])[]): ScoredItems {
  const items: number[] = [];
  const scores: number[] = [];
  for (const [nb, w] of parts) {
    if (item < 0 || item >= nb.nItems) continue;
    if (slots.length < nb.nItems) slots = new Int32Array(nb.nItems).fill(-1);
    const start = nb.indptr[item]!;
    const end = nb.indptr[item + 1]!;
    let max = 0;
    for (let p = start; p < end; p++) if (nb.values[p]! > max) max = nb.values[p]!;
    if (!(max > 0)) continue;
    const f = w / max;
    for (let p = start; p < end; p++) {
      const v = nb.values[p]!;
      const i = nb.indices[p]!;
      if (!(v > 0) || i === item) continue;
      const at = slots[i]!;
      if (at >= 0) scores[at]! += f * v;
      else {
        slots[i] = items.length;
        items.push(i);
        scores.push(f * v);
      }
    }
  }
  for (const i of items) slots[i] = -1;
  const order = Array.from(items.keys()).sort((a, b) => scores[b]! - scores[a]! || items[a]! - items[b]!);
  return {
    items: Int32Array.from(order, (x) => items[x]!),
    scores: Float64Array.from(order, (x) => scores[x]!),
  };
}

export function createServingIndex(
  model: ServingModel,
  version: number,
  stock: ReadonlyMap<string, boolean>,
): ServingIndex {
  const n = model.itemIds.length;
  const pop = model.popularity;
  let max = 0;
  for (let i = 0; i < n; i++) if (pop[i]! > max) max = pop[i]!;
  const popularityNorm = new Float64Array(n);
  if (max > 0) for (let i = 0; i < n; i++) popularityNorm[i] = pop[i]! > 0 ? pop[i]! / max : 0;
  const popularOrder = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => pop[b]! - pop[a]! || a - b);
  const lists = new Map<string, number[]>();
  for (const i of popularOrder) {
    const c = model.info[i]!.category;
    if (c === null) continue;
    const l = lists.get(c);
    if (l) l.push(i);
    else lists.set(c, [i]);
  }
  const byCategory = new Map([...lists].map(([c, l]) => [c, Int32Array.from(l)] as const));
  const sellable = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    sellable[i] = model.info[i]!.inCatalog && stock.get(model.itemIds[i]!) === true ? 1 : 0;
  const rows = { similar: new Map<number, ScoredItems>(), 'bought-together': new Map<number, ScoredItems>() };
  // Both directions of both similarity tables: MMR asks "how similar are a and b" either way round.
  const diversityTables = [model.similar, transpose(model.similar), model.content, transpose(model.content)];
  const diversity = new Map<number, ScoredItems>();
  return {
    model,
    version,
    popularOrder,
    popularityNorm,
    byCategory,
    sellable,
    pageRow(surface, item) {
      const cache = rows[surface];
      let row = cache.get(item);
      if (!row) {
        row =
          surface === 'similar'
            ? mergeRows(item, [
                [model.similar, 1],
                [model.content, 0.5],
              ])
            : mergeRows(item, [
                [model.boughtTogether, 1],
                [model.similar, 0.1],
              ]);
        cache.set(item, row);
      }
      return row;
    },
    diversityRow(item) {
      let row = diversity.get(item);
      if (!row) {
        row = maxRows(item, diversityTables);
        diversity.set(item, row);
      }
      return row;
    },
  };
}
