import { decodeOrKeep } from '../events/request';

/** Raised when a route cannot live beside the routes already in a tree; `message` is the detail. */
export class PathConflictError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'PathConflictError';
  }
}

/** The value registered at a route and the parameters the matched path gave it. */
export interface PathMatch<T> {
  value: T;
  params: Record<string, string>;
}

interface Node<T> {
  statics: Map<string, Node<T>>;
  param?: { name: string; node: Node<T> };
  wildcard?: { name: string; route: string; value: T };
  value?: { route: string; value: T };
}

const newNode = <T>(): Node<T> => ({ statics: new Map() });

/** The non-empty segments of a path; `/a//b/` and `/a/b` are the same route. */
export function pathSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * A routing tree of URL paths with `:name` parameters and a final `*name` wildcard. It refuses
 * ambiguous neighbours when a route is added, so that matching never has to backtrack: at any place a
 * node has either static children, or one parameter, or one wildcard.
 */
export class PathTree<T> {
  private readonly root: Node<T> = newNode<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a route; throws PathConflictError when it conflicts with one already there (the tree is then unchanged). */
  add(route: string, value: T): void {
    const conflict = this.conflictOf(route);
    if (conflict !== undefined) throw new PathConflictError(conflict);
    const segments = pathSegments(route);
    let node = this.root;
    for (const segment of segments) {
      if (segment.startsWith('*')) {
        node.wildcard = { name: segment.slice(1), route, value };
        this.count++;
        return;
      }
      node = segment.startsWith(':') ? paramChild(node, segment.slice(1)) : staticChild(node, segment);
    }
    node.value = { route, value };
    this.count++;
  }

  /** Whether a route can be added beside the routes already there. */
  fits(route: string): boolean {
    return this.conflictOf(route) === undefined;
  }

  /** The value registered at exactly this route (same segments, same parameter names), if any. */
  find(route: string): T | undefined {
    const segments = pathSegments(route);
    let node: Node<T> | undefined = this.root;
    for (const segment of segments) {
      if (segment.startsWith('*')) return node.wildcard?.name === segment.slice(1) ? node.wildcard.value : undefined;
      node = segment.startsWith(':') ? (node.param?.name === segment.slice(1) ? node.param.node : undefined) : node.statics.get(segment);
      if (!node) return undefined;
    }
    return node.value?.value;
  }

  /** Why a route cannot be added, or undefined when it can; changes nothing. */
  private conflictOf(route: string): string | undefined {
    const segments = pathSegments(route);
    // Undefined once the walk leaves the existing nodes: from there on the route is all new.
    let node: Node<T> | undefined = this.root;
    for (const [i, segment] of segments.entries()) {
      if (segment.startsWith('*')) {
        if (i !== segments.length - 1) return 'wildcard must be the last parameter';
        return node ? wildcardConflict(node, route) : undefined;
      }
      if (!node) continue;
      const conflict = segment.startsWith(':') ? paramConflict(node, segment.slice(1), route) : staticConflict(node, segment, route);
      if (conflict !== undefined) return conflict;
      node = segment.startsWith(':') ? node.param?.node : node.statics.get(segment);
    }
    return node?.value ? `route ${route} conflicts with existing route` : undefined;
  }

  /** Finds the route a concrete path selects, with its decoded parameters. */
  match(path: string): PathMatch<T> | undefined {
    const segments = pathSegments(path);
    let node = this.root;
    let params: Record<string, string> | undefined;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      const next = node.statics.get(segment);
      if (next) {
        node = next;
      } else if (node.param) {
        params ??= {};
        params[node.param.name] = decodeOrKeep(segment);
        node = node.param.node;
      } else if (node.wildcard) {
        params ??= {};
        params[node.wildcard.name] = segments.slice(i).map(decodeOrKeep).join('/');
        return { value: node.wildcard.value, params };
      } else {
        return undefined;
      }
    }
    if (node.value) return { value: node.value.value, params: params ?? {} };
    return undefined;
  }
}

function staticConflict<T>(node: Node<T>, segment: string, route: string): string | undefined {
  if (node.param) return `static segment '${segment}' of route ${route} conflicts with parameter ':${node.param.name}'`;
  if (node.wildcard) return `wildcard with different name ("${node.wildcard.name}") already defined: for route: ${route}`;
  return undefined;
}

function paramConflict<T>(node: Node<T>, name: string, route: string): string | undefined {
  if (node.wildcard) return `wildcard with different name ("${node.wildcard.name}") already defined: for route: ${route}`;
  if (node.statics.size > 0) {
    const existing = [...node.statics.keys()][0];
    return `static route already defined for route: ${route} (segment '${existing}')`;
  }
  if (node.param && node.param.name !== name) return `parameter with different name ("${node.param.name}") already defined: for route: ${route}`;
  return undefined;
}

function wildcardConflict<T>(node: Node<T>, route: string): string | undefined {
  if (node.wildcard) return `wildcard with different name ("${node.wildcard.name}") already defined: for route: ${route}`;
  if (node.param) return `wildcard with different name ("${node.param.name}") already defined: for route: ${route}`;
  if (node.statics.size > 0) {
    const existing = [...node.statics.keys()][0];
    return `static route already defined for route: ${route} (segment '${existing}')`;
  }
  return undefined;
}

function staticChild<T>(node: Node<T>, segment: string): Node<T> {
  let child = node.statics.get(segment);
  if (!child) {
    child = newNode<T>();
    node.statics.set(segment, child);
  }
  return child;
}

function paramChild<T>(node: Node<T>, name: string): Node<T> {
  node.param ??= { name, node: newNode<T>() };
  return node.param.node;
}
