import { PathConflictError, PathTree } from './path-tree';

/** A value registered by one space in a cross-space index; `rank` is the space's place in name order. */
export interface SpacedValue<T> {
  space: string;
  rank: number;
  value: T;
}

/** One space's value that a concrete path selects, with the path parameters it matched. */
export interface SpacedMatch<T> extends SpacedValue<T> {
  params: Record<string, string>;
}

/**
 * Path routes of every space in one index, so that a lookup costs what matches, not the number of
 * spaces. Routes of different spaces may conflict (`/users/:id` in one, `/users/me` in another), which
 * one path tree refuses; such a route goes to the next tree ("layer") it fits in. Identical routes of
 * several spaces share a node. A lookup matches each layer — one in the usual case — and answers every
 * space's match, lowest rank first, which is what "the first space, in name order, with a match" needs.
 */
export class SpacedPathIndex<T> {
  private readonly layers: Array<PathTree<Array<SpacedValue<T>>>> = [];

  /** Adds a space's route. Spaces should be added in rank order, so that each node's list stays sorted. */
  add(space: string, rank: number, route: string, value: T): void {
    const entry: SpacedValue<T> = { space, rank, value };
    for (const layer of this.layers) {
      const same = layer.find(route);
      if (same) {
        insertByRank(same, entry);
        return;
      }
      if (layer.fits(route)) {
        layer.add(route, [entry]);
        return;
      }
    }
    const layer = new PathTree<Array<SpacedValue<T>>>();
    layer.add(route, [entry]);
    this.layers.push(layer);
  }

  /** Every space's match for a path, lowest rank first; empty when none. */
  match(path: string): ReadonlyArray<SpacedMatch<T>> {
    return this.matchAs(path, (entry, params) => ({ ...entry, params }));
  }

  /** Every space's match for a path, lowest rank first, each made by `make` (one object per match on the hot path). */
  matchAs<R>(path: string, make: (entry: SpacedValue<T>, params: Record<string, string>) => R): readonly R[] {
    let first: { entries: Array<SpacedValue<T>>; params: Record<string, string> } | undefined;
    let more: Array<{ entry: SpacedValue<T>; params: Record<string, string> }> | undefined;
    for (const layer of this.layers) {
      const match = layer.match(path);
      if (!match) continue;
      if (!first) {
        first = { entries: match.value, params: match.params };
        continue;
      }
      more ??= [];
      for (const entry of match.value) more.push({ entry, params: match.params });
    }
    if (!first) return NO_MATCHES;
    const { entries, params } = first;
    if (!more) return entries.map((entry) => make(entry, params));
    // Several layers matched (spaces with conflicting routes): merge by rank. Lists are sorted within a layer.
    const all = [...entries.map((entry) => ({ entry, params })), ...more].sort((a, b) => a.entry.rank - b.entry.rank);
    return all.map((m) => make(m.entry, m.params));
  }

  /** How many path trees the index needed: 1 unless spaces registered conflicting routes. */
  get layerCount(): number {
    return this.layers.length;
  }
}

const NO_MATCHES: readonly never[] = Object.freeze([]);

function insertByRank<T>(list: Array<SpacedValue<T>>, entry: SpacedValue<T>): void {
  let i = list.length;
  while (i > 0 && (list[i - 1] as SpacedValue<T>).rank > entry.rank) i--;
  list.splice(i, 0, entry);
}

export { PathConflictError };
