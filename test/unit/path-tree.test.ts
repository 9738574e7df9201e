import { PathConflictError, PathTree } from '../../lib/routing/path-tree';

function treeWith(...routes: string[]): PathTree<string> {
  const tree = new PathTree<string>();
  for (const route of routes) tree.add(route, route);
  return tree;
}

describe('PathTree', () => {
  it('matches static routes exactly, ignoring a trailing slash', () => {
    const tree = treeWith('/', '/users', '/users/all');
    expect(tree.match('/')?.value).toBe('/');
    expect(tree.match('/users/')?.value).toBe('/users');
    expect(tree.match('/users/all')?.value).toBe('/users/all');
    expect(tree.match('/users/none')).toBeUndefined();
  });

  it('binds parameters and decodes their values', () => {
    const tree = treeWith('/users/:id/posts/:postId');
    expect(tree.match('/users/a%20b/posts/7')).toEqual({ value: '/users/:id/posts/:postId', params: { id: 'a b', postId: '7' } });
    expect(tree.match('/users/1/posts')).toBeUndefined();
  });

  it('gives a final wildcard the rest of the path', () => {
    const tree = treeWith('/files/*rest');
    expect(tree.match('/files/a/b/c.txt')).toEqual({ value: '/files/*rest', params: { rest: 'a/b/c.txt' } });
  });

  it.each([
    ['a static segment where a parameter is registered', ['/users/:id'], '/users/me', "static segment 'me' of route /users/me conflicts with parameter ':id'"],
    ['a parameter where a static segment is registered', ['/users/me', '/users/you'], '/users/:id', "static route already defined for route: /users/:id (segment 'me')"],
    ['two parameters of different names at the same place', ['/users/:id'], '/users/:name', 'parameter with different name ("id") already defined: for route: /users/:name'],
    ['a static segment beside a wildcard', ['/files/*rest'], '/files/x', 'wildcard with different name ("rest") already defined: for route: /files/x'],
    ['a route after a wildcard', ['/files/*rest'], '/files/:id/x', 'wildcard with different name ("rest") already defined: for route: /files/:id/x'],
    ['a wildcard beside a static segment', ['/files/x', '/files/y'], '/files/*rest', "static route already defined for route: /files/*rest (segment 'x')"],
    ['a wildcard beside a wildcard', ['/files/*rest'], '/files/*other', 'wildcard with different name ("rest") already defined: for route: /files/*other'],
    ['a wildcard beside a parameter', ['/files/:id'], '/files/*rest', 'wildcard with different name ("id") already defined: for route: /files/*rest'],
    ['a wildcard that is not last', [], '/files/*rest/x', 'wildcard must be the last parameter'],
    ['the same route twice', ['/a/:id'], '/a/:id', 'route /a/:id conflicts with existing route'],
  ])('rejects %s, saying why', (_name, existing, route, message) => {
    const tree = treeWith(...existing);
    const err = (() => {
      try {
        tree.add(route, route);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(PathConflictError);
    expect(err).toMatchObject({ name: 'PathConflictError', message });
    expect(tree.size).toBe(existing.length);
  });

  it('counts every route it holds, wildcards included', () => {
    expect(treeWith().size).toBe(0);
    expect(treeWith('/', '/files/*rest', '/users/:id').size).toBe(3);
  });

  it('accepts the same parameter name shared by sibling routes', () => {
    const tree = treeWith('/users/:id', '/users/:id/posts');
    expect(tree.match('/users/3/posts')?.params).toEqual({ id: '3' });
    expect(tree.size).toBe(2);
  });
});

describe('PathTree.fits and find', () => {
  it('tells whether a route would conflict, without changing the tree', () => {
    const tree = treeWith('/users/:id');
    expect(tree.fits('/users/me')).toBe(false);
    expect(tree.fits('/users/:id/posts')).toBe(true);
    expect(tree.size).toBe(1);
    expect(tree.match('/users/me')?.value).toBe('/users/:id');
  });

  it('leaves the tree unchanged when an add is refused part-way', () => {
    const tree = treeWith('/a/b/:id');
    expect(() => tree.add('/a/b/c/d', 'x')).toThrow(PathConflictError);
    expect(tree.fits('/a/:other')).toBe(false);
    expect(tree.fits('/a/x')).toBe(true);
    expect(tree.match('/a/b/c')?.value).toBe('/a/b/:id');
  });

  it('finds the value of an identical route only', () => {
    const tree = treeWith('/users/:id', '/files/*rest');
    expect(tree.find('/users/:id/')).toBe('/users/:id');
    expect(tree.find('/users/:name')).toBeUndefined();
    expect(tree.find('/files/*rest')).toBe('/files/*rest');
    expect(tree.find('/files/*other')).toBeUndefined();
    expect(tree.find('/users')).toBeUndefined();
  });

  it('fits new parameters and wildcards under a route that has no children yet', () => {
    const tree = treeWith('/a');
    expect(tree.fits('/a/:id')).toBe(true);
    expect(tree.fits('/a/*rest')).toBe(true);
    expect(tree.find('/a/:id')).toBeUndefined();
    expect(tree.find('/*rest')).toBeUndefined();
    tree.add('/a/*rest', '/a/*rest');
    expect(tree.match('/a/x/y')).toEqual({ value: '/a/*rest', params: { rest: 'x/y' } });
  });
});

