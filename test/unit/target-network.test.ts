import type { LookupAddress } from 'node:dns';
import { addressCheck, guardedLookup, parseIp, TargetRefusedError, type ResolveAll } from '../../lib/providers/target-network';

/** The host part of a URL as undici connects to it: what `new URL` normalises the text to. */
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

describe('the target network policy', () => {
  const strict = addressCheck();

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fdff::1', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
  ])('refuses %s by default as %s', (address, category) => {
    expect(strict(address)).toBe(category);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '192.169.0.1'])('allows the public address %s', (address) => {
    expect(strict(address)).toBeUndefined();
  });

  it('sees through IPv6 forms that carry an IPv4 address', () => {
    expect(strict('::ffff:127.0.0.1')).toBe('loopback');
    expect(strict('::ffff:7f00:1')).toBe('loopback');
    expect(strict('::ffff:169.254.169.254')).toBe('metadata');
    expect(strict('64:ff9b::a9fe:a9fe')).toBe('metadata');
    expect(strict('::10.0.0.1')).toBe('private');
    expect(parseIp('::ffff:10.0.0.1')).toEqual({ v6: false, value: 0x0a000001n });
  });

  it('refuses the odd spellings of loopback once the URL is parsed, as undici parses it', () => {
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/', 'http://[::ffff:127.0.0.1]/', 'http://[0:0:0:0:0:ffff:7f00:1]/']) {
      expect([url, strict(hostOf(url))]).toEqual([url, 'loopback']);
    }
  });

  it('lets loopback through in development, private networks on request, and explicit networks always', () => {
    const dev = addressCheck({ allowLoopback: true });
    expect(dev('127.0.0.1')).toBeUndefined();
    expect(dev('::1')).toBeUndefined();
    expect(dev('10.0.0.1')).toBe('private');
    const privateOk = addressCheck({ allowPrivate: true });
    expect(privateOk('10.0.0.1')).toBeUndefined();
    expect(privateOk('fd12::1')).toBeUndefined();
    // The metadata service sits in fc00::/7 and 169.254/16, but allowing private networks never opens it.
    expect(privateOk('fd00:ec2::254')).toBe('metadata');
    expect(privateOk('127.0.0.1')).toBe('loopback');
    const listed = addressCheck({ allowNetworks: ['127.0.0.0/8', '10.1.0.0/16', 'fd00::/8'] });
    expect(listed('127.0.0.2')).toBeUndefined();
    expect(listed('::ffff:127.0.0.2')).toBeUndefined();
    expect(listed('10.1.9.9')).toBeUndefined();
    expect(listed('10.2.0.1')).toBe('private');
    expect(listed('fd00:1::1')).toBeUndefined();
  });

  it('rejects malformed networks in the allow-list', () => {
    expect(() => addressCheck({ allowNetworks: ['10.0.0.0/33'] })).toThrow(/invalid prefix/);
    expect(() => addressCheck({ allowNetworks: ['example.com/8'] })).toThrow(/not an IP network/);
  });

  it('refuses a name that resolves to a refused address, in the form node asked for', async () => {
    const lookup = guardedLookup(addressCheck());
    const err = await new Promise<unknown>((resolve) => lookup('localhost', { all: true }, (e) => resolve(e)));
    expect(err).toBeInstanceOf(TargetRefusedError);
    expect((err as TargetRefusedError).category).toBe('loopback');

    const open = guardedLookup(addressCheck({ allowLoopback: true }));
    const one = await new Promise<[unknown, unknown, unknown]>((resolve) => open('localhost', {}, (e, a, f) => resolve([e, a, f])));
    expect(one[0]).toBeNull();
    expect(typeof one[1]).toBe('string');
    expect([4, 6]).toContain(one[2]);
    const all = await new Promise<[unknown, unknown]>((resolve) => open('localhost', { all: true }, (e, a) => resolve([e, a])));
    expect(all[0]).toBeNull();
    expect(Array.isArray(all[1])).toBe(true);
  });

  describe('with a resolver giving several addresses', () => {
    const PUBLIC = { address: '93.184.215.14', family: 4 };
    const PRIVATE = { address: '10.0.0.7', family: 4 };
    const PUBLIC_V6 = { address: '2606:4700::1111', family: 6 };
    /** A resolver that answers every name with `answer`, remembering what it was asked. */
    const resolver = (answer: LookupAddress[]) => {
      const asked: Array<{ hostname: string; all: boolean | undefined }> = [];
      const resolve: ResolveAll = (hostname, options, callback) => {
        asked.push({ hostname, all: options.all });
        callback(null, answer);
      };
      return { resolve, asked };
    };
    const lookupOf = (answer: LookupAddress[], all: boolean) => {
      const { resolve, asked } = resolver(answer);
      const lookup = guardedLookup(addressCheck(), resolve);
      const result = new Promise<[unknown, unknown, unknown]>((done) => lookup('target.example', { all }, (e, a, f) => done([e, a, f])));
      return { result, asked };
    };

    it.each([
      ['public first', [PUBLIC, PRIVATE]],
      ['private first', [PRIVATE, PUBLIC]],
      ['private last of three', [PUBLIC, PUBLIC_V6, PRIVATE]],
    ])('refuses a name whose answer mixes a public and a private address (%s)', async (_name, answer) => {
      for (const all of [false, true]) {
        const { result, asked } = lookupOf(answer, all);
        const [err, address] = await result;
        expect(err).toBeInstanceOf(TargetRefusedError);
        expect(err).toMatchObject({ address: '10.0.0.7', category: 'private' });
        expect(address).toEqual([]);
        expect(asked).toEqual([{ hostname: 'target.example', all: true }]);
      }
    });

    it('gives node the first address, or all of them, when every address is public', async () => {
      expect(await lookupOf([PUBLIC_V6, PUBLIC], false).result).toEqual([null, '2606:4700::1111', 6]);
      expect(await lookupOf([PUBLIC, PUBLIC_V6], true).result).toEqual([null, [PUBLIC, PUBLIC_V6], undefined]);
    });

    it('passes on a resolver error and answers ENOTFOUND for an empty answer', async () => {
      const failing: ResolveAll = (_hostname, _options, callback) => callback(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' }), []);
      const failed = await new Promise<unknown>((done) => guardedLookup(addressCheck(), failing)('nowhere.example', {}, (e) => done(e)));
      expect(failed).toMatchObject({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nowhere.example' });
      const [err] = await lookupOf([], false).result;
      expect(err).toMatchObject({ code: 'ENOTFOUND', message: 'no address for target.example' });
    });
  });
});
