import type { CloudEvent } from '../../lib/events/accessors';
import { compileFilters, validateFilters, type Filter } from '../../lib/events/filter';

const v1: CloudEvent = {
  specversion: '1.0',
  type: 'com.shop.order.placed',
  source: 'https://shop.example/orders',
  id: 'o-1',
  subject: 'orders/42',
  tenant: 'acme',
  priority: 3,
  data: { amount: 10, currency: 'EUR', vip: true, lines: [1, 2], note: null },
};

const v01: CloudEvent = {
  eventType: 'com.shop.order.placed',
  cloudEventsVersion: '0.1',
  source: 'https://shop.example/orders',
  eventID: 'o-2',
  extensions: { tenant: 'acme' },
  data: { amount: '10' },
};

const matches = (filters: Filter[], event: CloudEvent = v1): boolean => {
  const predicate = compileFilters(filters);
  if (!predicate) throw new Error('nothing compiled');
  return predicate(event);
};

describe('subscription filters', () => {
  it.each<[string, Filter, boolean]>([
    ['exact on type', { exact: { type: 'com.shop.order.placed' } }, true],
    ['exact on type, other value', { exact: { type: 'com.shop.order' } }, false],
    ['prefix on type', { prefix: { type: 'com.shop.' } }, true],
    ['prefix found inside, not at the start', { prefix: { type: 'shop.order' } }, false],
    ['prefix found at the end only', { prefix: { type: 'placed' } }, false],
    ['suffix on type', { suffix: { type: '.placed' } }, true],
    ['suffix that does not match', { suffix: { type: '.cancelled' } }, false],
    ['suffix found inside, not at the end', { suffix: { type: 'shop.order' } }, false],
    ['suffix found at the start only', { suffix: { type: 'com.' } }, false],
    ['exact on an extension', { exact: { tenant: 'acme' } }, true],
    ['exact on a number extension, by its JSON form', { exact: { priority: '3' } }, true],
    ['exact on several attributes, all must match', { exact: { tenant: 'acme', subject: 'orders/1' } }, false],
    ['exact on a missing attribute', { exact: { region: 'eu' } }, false],
    ['prefix on a missing attribute', { prefix: { region: 'eu' } }, false],
    ['suffix on a missing attribute', { suffix: { region: 'eu' } }, false],
    ['not of a prefix on a missing attribute', { not: { prefix: { region: 'eu' } } }, true],
    ['exact on a number in data', { exact: { 'data.amount': '10' } }, true],
    ['exact on a boolean in data', { exact: { 'data.vip': 'true' } }, true],
    ['prefix on a string in data', { prefix: { 'data.currency': 'EU' } }, true],
    ['exact on an array in data never matches', { exact: { 'data.lines': '1,2' } }, false],
    ['exact on null in data never matches', { exact: { 'data.note': 'null' } }, false],
    ['all of two matching filters', { all: [{ prefix: { type: 'com.shop' } }, { exact: { tenant: 'acme' } }] }, true],
    ['all with one failing', { all: [{ prefix: { type: 'com.shop' } }, { exact: { tenant: 'other' } }] }, false],
    ['any with one matching', { any: [{ exact: { tenant: 'other' } }, { exact: { tenant: 'acme' } }] }, true],
    ['any with none matching', { any: [{ exact: { tenant: 'x' } }, { exact: { tenant: 'y' } }] }, false],
    ['not of a match', { not: { exact: { tenant: 'acme' } } }, false],
    ['not of a missing attribute', { not: { exact: { region: 'eu' } } }, true],
    [
      'nesting: any of (all of …) and not',
      { any: [{ all: [{ exact: { tenant: 'acme' } }, { not: { prefix: { subject: 'orders/' } } }] }, { suffix: { 'data.currency': 'UR' } }] },
      true,
    ],
  ])('%s', (_name, filter, expected) => {
    expect(matches([filter])).toBe(expected);
  });

  it('requires every filter of the list to match', () => {
    expect(matches([{ exact: { tenant: 'acme' } }, { prefix: { subject: 'orders/' } }])).toBe(true);
    expect(matches([{ exact: { tenant: 'acme' } }, { prefix: { subject: 'users/' } }])).toBe(false);
  });

  it('reads a 0.1 event by 1.0 names: type, id, extensions, data', () => {
    expect(matches([{ exact: { type: 'com.shop.order.placed', id: 'o-2', specversion: '0.1', tenant: 'acme', 'data.amount': '10' } }], v01)).toBe(true);
  });

  it('is undefined with no filters, so that unfiltered routes cost nothing', () => {
    expect(compileFilters(undefined)).toBeUndefined();
    expect(compileFilters([])).toBeUndefined();
  });

  it.each([
    ['not an array', { exact: { type: 'x' } }, /filters must be an array/],
    ['an unknown operator', [{ equals: { type: 'x' } }], /filters\[0\] has unknown operator "equals"/],
    ['two operators in one filter', [{ exact: { type: 'x' }, prefix: { type: 'y' } }], /exactly one operator/],
    ['a non-string value', [{ exact: { 'data.amount': 10 } }], /filters\[0\]\.exact\.data\.amount must be a string/],
    ['an illegal attribute name', [{ prefix: { Type: 'x' } }], /key "Type" must be an attribute name/],
    ['an empty data field', [{ prefix: { 'data.': 'x' } }], /key "data\." must be/],
    ['an empty comparison', [{ suffix: {} }], /filters\[0\]\.suffix must be an object/],
    ['an empty all', [{ all: [] }], /all must be a non-empty array/],
    ['null as a filter', [null], /^filters\[0\] must be an object$/],
    ['a string as a filter', ['exact'], /^filters\[0\] must be an object$/],
    ['an array as a filter', [[{ exact: { type: 'x' } }]], /^filters\[0\] must be an object$/],
    ['an invalid filter after a valid one', [{ exact: { type: 'x' } }, { exact: {} }], /^filters\[1\]\.exact must be an object/],
    ['a nested problem', [{ any: [{ exact: { type: 'x' } }, { not: { exact: 'x' } }] }], /filters\[0\]\.any\[1\]\.not\.exact must be an object/],
  ])('refuses %s', (_name, filters, message) => {
    expect(validateFilters(filters)).toMatch(message);
  });

  it('names every operator when a filter has none or several, or an unknown one', () => {
    const operators = '(exact, prefix, suffix, all, any, not)';
    expect(validateFilters([{}])).toBe(`filters[0] must have exactly one operator ${operators}`);
    expect(validateFilters([{ exact: { type: 'x' }, not: { exact: { type: 'y' } } }])).toBe(`filters[0] must have exactly one operator ${operators}`);
    expect(validateFilters([{ equals: { type: 'x' } }])).toBe('filters[0] has unknown operator "equals" (use exact, prefix, suffix, all, any, not)');
  });

  it('reads data fields only of JSON object data, and only its own fields', () => {
    const textData: CloudEvent = { ...v1, data: 'hello' };
    expect(matches([{ exact: { 'data.length': '5' } }], textData)).toBe(false);
    expect(matches([{ exact: { 'data.0': 'h' } }], textData)).toBe(false);
    expect(matches([{ exact: { 'data.length': '2' } }], { ...v1, data: [1, 2] })).toBe(false);
    expect(matches([{ not: { exact: { 'data.amount': '10' } } }], { ...v1, data: null })).toBe(true);
    expect(matches([{ not: { exact: { 'data.amount': '10' } } }], { ...v1, data: undefined })).toBe(true);
    expect(matches([{ prefix: { 'data.constructor': 'f' } }])).toBe(false);
  });

  it('matches everything with an empty all, which validation refuses but compiling allows', () => {
    expect(matches([{ all: [] }])).toBe(true);
  });

  it('accepts absent filters and valid nested ones', () => {
    expect(validateFilters(undefined)).toBeUndefined();
    expect(validateFilters(null)).toBeUndefined();
    expect(validateFilters([{ all: [{ exact: { type: 'x' } }, { not: { any: [{ prefix: { 'data.a.b': 'y' } }] } }] }])).toBeUndefined();
  });
});

describe('filter nesting', () => {
  it('refuses filters nested deeper than 16 levels instead of overflowing the stack', () => {
    let filter: unknown = { exact: { type: 'x' } };
    for (let i = 0; i < 5000; i++) filter = { not: filter };
    expect(validateFilters([filter])).toBe('filters are nested more than 16 levels deep');
    let shallow: unknown = { exact: { type: 'x' } };
    for (let i = 0; i < 16; i++) shallow = { not: shallow };
    expect(validateFilters([shallow])).toBeUndefined();
  });

  it('counts nesting through all and any as through not', () => {
    for (const operator of ['all', 'any']) {
      let deep: unknown = { exact: { type: 'x' } };
      for (let i = 0; i < 17; i++) deep = { [operator]: [deep] };
      expect(validateFilters([deep])).toBe('filters are nested more than 16 levels deep');
      let allowed: unknown = { exact: { type: 'x' } };
      for (let i = 0; i < 16; i++) allowed = { [operator]: [allowed] };
      expect(validateFilters([allowed])).toBeUndefined();
    }
  });
});
