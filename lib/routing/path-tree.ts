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

  /** Adds a route; throws PathConflictError when it conflicts with one already there. */
  add(route: string, value: T): void {
    const segments = pathSegments(route);
    let node = this.root;
    for (const [i, segment] of segments.entries()) {
      if (segment.startsWith('*')) {
        if (i !== segments.length - 1) throw new PathConflictError('wildcard must be the last parameter');
        this.addWildcard(node, segment.slice(1), route, value);
        this.count++;
        return;
      }
      node = segment.startsWith(':') ? this.paramChild(node, segment.slice(1), route) : this.staticChild(node, segment, route);
    }
    if (node.value) throw new PathConflictError(`route ${route} conflicts with existing route`);
    node.value = { route, value };
    this.count++;
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

  private staticChild(node: Node<T>, segment: string, route: string): Node<T> {
    if (node.param) {
      throw new PathConflictError(`static segment '${segment}' of route ${route} conflicts with parameter ':${node.param.name}'`);
    }
    if (node.wildcard) {
      throw new PathConflictError(`wildcard with different name ("${node.wildcard.name}") already defined: for route: ${route}`);
    }
    let child = node.statics.get(segment);
    if (!child) {
      child = newNode<T>();
      node.statics.set(segment, child);
    }
    return child;
  }

  private paramChild(node: Node<T>, name: string, route: string): Node<T> {
    if (node.wildcard) {
      throw new PathConflictError(`wildcard with different name ("${node.wildcard.name}") already defined: for route: ${route}`);
    }
    if (node.statics.size > 0) {
      const existing = [...node.statics.keys()][0];
      throw new PathConflictError(`static route already defined for route: ${route} (segment '${existing}')`);
    }
    if (node.param && node.param.name !== name) {
      throw new PathConflictError(`parameter with different name ("${node.param.name}") already defined: for route: ${route}`);
    }
    node.param ??= { name, node: newNode<T>() };
    return node.param.node;
  }

  private addWildcard(node: Node<T>, name: string, route: string, value: T): void {
    if (node.wildcard) {
      throw new PathConflictError(`wildcard with different name ("${node.wildcard.name}") already defined: for route: ${route}`);
    }
    if (node.param) {
      throw new PathConflictError(`wildcard with different name ("${node.param.name}") already defined: for route: ${route}`);
    }
    if (node.statics.size > 0) {
      const existing = [...node.statics.keys()][0];
      throw new PathConflictError(`static route already defined for route: ${route} (segment '${existing}')`);
    }
    node.wildcard = { name, route, value };
  }
}
