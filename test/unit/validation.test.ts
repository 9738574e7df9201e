import { checkFields, checkShape, fieldFailure, rules, type Rule } from '../../lib/registry/validation';

const passes = (rule: Rule, value: unknown): boolean => rule[1](value);

describe('field rules', () => {
  it('requires a value that is neither absent, null nor empty; zero and false are values', () => {
    expect(rules.required[0]).toBe('required');
    expect([undefined, null, ''].map((v) => passes(rules.required, v))).toEqual([false, false, false]);
    expect([0, false, 'x', {}].map((v) => passes(rules.required, v))).toEqual([true, true, true, true]);
  });

  it('wants strings of a minimum length', () => {
    const min3 = rules.minLength(3);
    // The tag's exact wording follows the Go validator and is owned by the registry's parsers.
    expect(min3[0]).toMatch(/^min/);
    expect(['ab', 'abc', 'abcd', 3, undefined].map((v) => passes(min3, v))).toEqual([false, true, true, false, false]);
  });

  it('accepts names of letters, digits, dots, dashes and underscores, and nothing else', () => {
    for (const rule of [rules.space, rules.functionId, rules.eventType]) {
      expect(['a.B-c_9', 'x'].map((v) => passes(rule, v))).toEqual([true, true]);
      expect(['', 'a b', 'a/b', 'é', ' a', 'a ', 7, undefined].map((v) => passes(rule, v))).toEqual([false, false, false, false, false, false, false, false]);
    }
    expect([rules.space[0], rules.functionId[0], rules.eventType[0]]).toEqual(['space', 'functionid', 'eventType']);
  });

  it('wants a URL path: a leading slash, no white space, query or fragment', () => {
    expect(rules.urlPath[0]).toBe('urlPath');
    expect(['/', '/a/:id/*rest'].map((v) => passes(rules.urlPath, v))).toEqual([true, true]);
    expect(['a', '', '/a b', '/a\tb', '/a?b', '/a#b', 1].map((v) => passes(rules.urlPath, v))).toEqual([false, false, false, false, false, false, false]);
  });

  it('wants one of a list of values, named as the Go tag names it', () => {
    const rule = rules.oneOf(['http', 'awslambda']);
    expect(rule[0]).toBe('eq=http|eq=awslambda');
    expect(['http', 'awslambda', 'HTTP', 'h', '', 1].map((v) => passes(rule, v))).toEqual([true, true, false, false, false, false]);
  });

  it('wants an absolute http or https URL', () => {
    expect(rules.url[0]).toBe('url');
    expect(['http://example.com', 'https://example.com/x?y'].map((v) => passes(rules.url, v))).toEqual([true, true]);
    expect(['ftp://example.com', 'example.com', '/relative', 'http//x', '', 1].map((v) => passes(rules.url, v))).toEqual([false, false, false, false, false, false]);
  });

  it('applies an optional rule only to a value that is present', () => {
    const optionalUrl = rules.optional(rules.url);
    expect(optionalUrl[0]).toBe('url');
    expect([undefined, null, '', 'https://x.example'].map((v) => passes(optionalUrl, v))).toEqual([true, true, true, true]);
    expect(passes(optionalUrl, 'nope')).toBe(false);
  });
});

describe('checkFields', () => {
  it('is undefined when every field passes', () => {
    expect(checkFields('Function', [['ID', 'f', [rules.required, rules.functionId]]])).toBeUndefined();
    expect(checkFields('Function', [])).toBeUndefined();
  });

  it('reports the first failing rule of each failed field, one line each, in order', () => {
    const detail = checkFields('Subscription', [
      ['Type', undefined, [rules.required, rules.oneOf(['sync', 'async'])]],
      ['Path', '/ok', [rules.required, rules.urlPath]],
      ['Method', 'FETCH', [rules.required, rules.oneOf(['GET', 'POST'])]],
    ]);
    expect(detail).toBe(
      "Key: 'Subscription.Type' Error:Field validation for 'Type' failed on the 'required' tag\n" +
        "Key: 'Subscription.Method' Error:Field validation for 'Method' failed on the 'eq=GET|eq=POST' tag",
    );
  });

  it('writes a failure in the Go validator wording', () => {
    expect(fieldFailure('Function', 'ID', 'functionid')).toBe("Key: 'Function.ID' Error:Field validation for 'ID' failed on the 'functionid' tag");
  });
});

describe('checkShape', () => {
  const shape = { name: 'string', enabled: 'boolean', provider: 'object', tags: 'string[]', headers: 'stringMap' } as const;

  it('accepts the right JSON types, and absent or null fields', () => {
    expect(checkShape('Function', { name: 'n', enabled: false, provider: {}, tags: ['a'], headers: { a: 'b' }, unknown: 1 }, shape)).toBeUndefined();
    expect(checkShape('Function', { name: null, tags: [], headers: {} }, shape)).toBeUndefined();
  });

  it.each([
    [{ name: 1 }, 'json: cannot unmarshal number into Go struct field Function.name of type string'],
    [{ name: true }, 'json: cannot unmarshal bool into Go struct field Function.name of type string'],
    [{ name: [] }, 'json: cannot unmarshal array into Go struct field Function.name of type string'],
    [{ name: {} }, 'json: cannot unmarshal object into Go struct field Function.name of type string'],
    [{ enabled: 'yes' }, 'json: cannot unmarshal string into Go struct field Function.enabled of type bool'],
    [{ provider: [] }, 'json: cannot unmarshal array into Go struct field Function.provider of type map[string]interface {}'],
    [{ provider: 'x' }, 'json: cannot unmarshal string into Go struct field Function.provider of type map[string]interface {}'],
    [{ tags: 'a' }, 'json: cannot unmarshal string into Go struct field Function.tags of type []string'],
    [{ tags: ['a', 1] }, 'json: cannot unmarshal array into Go struct field Function.tags of type []string'],
    [{ headers: [] }, 'json: cannot unmarshal array into Go struct field Function.headers of type map[string]string'],
    [{ headers: { a: 1 } }, 'json: cannot unmarshal object into Go struct field Function.headers of type map[string]string'],
    [{ headers: 'a' }, 'json: cannot unmarshal string into Go struct field Function.headers of type map[string]string'],
  ])('refuses %j as Go decoding would', (body, message) => {
    expect(checkShape('Function', body, shape)).toBe(message);
  });

  it('reports the first mismatch in the order of the shape', () => {
    expect(checkShape('Function', { tags: 1, name: 1 }, shape)).toBe('json: cannot unmarshal number into Go struct field Function.name of type string');
  });
});
