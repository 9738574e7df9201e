import { attributeOf, type CloudEvent } from './accessors';
import { ATTRIBUTE_NAME } from './cloudevent-v1';

/**
 * A subscription filter, in the spirit of the CloudEvents Subscriptions API: `exact`, `prefix` and
 * `suffix` compare attributes (by their 1.0 names), extensions, or top-level fields of JSON data
 * (`data.<field>`) with strings; `all`, `any` and `not` combine filters.
 */
export type Filter =
  | { exact: Record<string, string> }
  | { prefix: Record<string, string> }
  | { suffix: Record<string, string> }
  | { all: Filter[] }
  | { any: Filter[] }
  | { not: Filter };

/** A compiled filter: decides whether a subscriber gets an event. */
export type EventPredicate = (event: CloudEvent) => boolean;

const COMPARISONS = ['exact', 'prefix', 'suffix'] as const;
const OPERATORS = [...COMPARISONS, 'all', 'any', 'not'] as const;
type Comparison = (typeof COMPARISONS)[number];
const DATA_PREFIX = 'data.';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a `filters` value is not a list of valid filters, or undefined when it is (absent is valid). */
export function validateFilters(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return 'filters must be an array of filter objects';
  for (const [index, filter] of value.entries()) {
    const problem = validateFilter(filter, `filters[${index}]`);
    if (problem) return problem;
  }
  return undefined;
}

/** Deeper nesting than this is refused: no real filter needs it, and recursion must stay bounded. */
const MAX_DEPTH = 16;

function validateFilter(filter: unknown, at: string, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return `filters are nested more than ${MAX_DEPTH} levels deep`;
  if (!isObject(filter)) return `${at} must be an object`;
  const keys = Object.keys(filter);
  const operator = keys[0];
  if (keys.length !== 1 || operator === undefined) return `${at} must have exactly one operator (${OPERATORS.join(', ')})`;
  const operand = filter[operator];
  switch (operator) {
    case 'exact':
    case 'prefix':
    case 'suffix':
      return validateComparison(operand, `${at}.${operator}`);
    case 'all':
    case 'any':
      if (!Array.isArray(operand) || operand.length === 0) return `${at}.${operator} must be a non-empty array of filters`;
      for (const [index, inner] of operand.entries()) {
        const problem = validateFilter(inner, `${at}.${operator}[${index}]`, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    case 'not':
      return validateFilter(operand, `${at}.not`, depth + 1);
    default:
      return `${at} has unknown operator "${operator}" (use ${OPERATORS.join(', ')})`;
  }
}

function validateComparison(operand: unknown, at: string): string | undefined {
  if (!isObject(operand) || Object.keys(operand).length === 0) return `${at} must be an object of attribute names to strings`;
  for (const [name, expected] of Object.entries(operand)) {
    const field = name.startsWith(DATA_PREFIX) ? name.slice(DATA_PREFIX.length) : undefined;
    if (field === undefined ? !ATTRIBUTE_NAME.test(name) : field === '') {
      return `${at} key "${name}" must be an attribute name (lower-case letters and digits) or data.<field>`;
    }
    if (typeof expected !== 'string') return `${at}.${name} must be a string`;
  }
  return undefined;
}

/**
 * A value as filters compare it: strings as they are, numbers and booleans in their JSON form (so
 * `"10"` matches 10 and "10"); anything else (absent, null, objects, arrays) never matches.
 */
function comparable(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return undefined;
}

function reader(name: string): (event: CloudEvent) => unknown {
  if (!name.startsWith(DATA_PREFIX)) return (event) => attributeOf(event, name);
  const field = name.slice(DATA_PREFIX.length);
  return (event) => {
    const data = event.data;
    return isObject(data) && Object.hasOwn(data, field) ? data[field] : undefined;
  };
}

const tests: Record<Comparison, (actual: string, expected: string) => boolean> = {
  exact: (actual, expected) => actual === expected,
  prefix: (actual, expected) => actual.startsWith(expected),
  suffix: (actual, expected) => actual.endsWith(expected),
};

function compileComparison(kind: Comparison, operand: Record<string, string>): EventPredicate {
  const test = tests[kind];
  const checks = Object.entries(operand).map(([name, expected]) => {
    const read = reader(name);
    return (event: CloudEvent) => {
      const actual = comparable(read(event));
      return actual !== undefined && test(actual, expected);
    };
  });
  return (event) => checks.every((check) => check(event));
}

function compileFilter(filter: Filter): EventPredicate {
  if ('exact' in filter) return compileComparison('exact', filter.exact);
  if ('prefix' in filter) return compileComparison('prefix', filter.prefix);
  if ('suffix' in filter) return compileComparison('suffix', filter.suffix);
  if ('all' in filter) return compileFilters(filter.all) ?? (() => true);
  if ('any' in filter) {
    const inner = filter.any.map(compileFilter);
    return (event) => inner.some((predicate) => predicate(event));
  }
  const inner = compileFilter(filter.not);
  return (event) => !inner(event);
}

/**
 * Compiles validated filters once (when the routing table is built) into one predicate: every filter
 * must match. Undefined when there is nothing to check, so that unfiltered routes cost nothing.
 */
export function compileFilters(filters: readonly Filter[] | undefined): EventPredicate | undefined {
  if (!filters || filters.length === 0) return undefined;
  const predicates = filters.map(compileFilter);
  const [only] = predicates;
  if (predicates.length === 1 && only) return only;
  return (event) => predicates.every((predicate) => predicate(event));
}
