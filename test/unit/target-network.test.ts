import type { LookupAddress } from 'node:dns';
import { createServer, get as httpGet, type Agent, type ClientRequest, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo, NetConnectOpts, Socket } from 'node:net';
import { addressCheck, guardedLookup, guardedNodeAgents, parseIp, parseNetworks, TargetRefusedError, type ResolveAll } from '../../lib/providers/target-network';

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
    ['169.254.170.2', 'metadata'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['ff02::1', 'reserved'],
    ['fd00:0:0:0:0:0:0:1', 'private'],
    ['fe80::', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['127.0.0.1%eth0', 'reserved'],
    ['localhost', 'reserved'],
    ['', 'reserved'],
  ])('refuses %s by default as %s', (address, category) => {
    expect(strict(address)).toBe(category);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '192.169.0.1', '100.128.0.1', '2606:4700:0:0:0:0:0:1111', '2606:4700::1111%eth0'])('allows the public address %s', (address) => {
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

  it.each<[string, ReturnType<typeof parseIp>]>([
    ['1.2.3.4', { v6: false, value: 0x01020304n }],
    ['2001:db8::1', { v6: true, value: 0x20010db8000000000000000000000001n }],
    ['1::', { v6: true, value: 1n << 112n }],
    ['::1', { v6: true, value: 1n }],
    ['::', { v6: true, value: 0n }],
    ['1:2:3:4:5:6:7:8', { v6: true, value: 0x00010002000300040005000600070008n }],
    ['::ffff:1.2.3.4', { v6: false, value: 0x01020304n }],
    ['64:ff9b::1.2.3.4', { v6: false, value: 0x01020304n }],
    ['::1.2.3.4', { v6: false, value: 0x01020304n }],
    ['::2', { v6: false, value: 2n }],
    ['1.2.3', undefined],
    ['1.2.3.4%x', undefined],
  ])('reads %s as a number', (text, ip) => {
    expect(parseIp(text)).toEqual(ip);
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
    for (const cidr of ['10.0.0.0/', '10.0.0.0/x', '10.0.0.0/-1', '10.0.0.0/8.5', '10.0.0.0/ 8', '::/129', '::ffff:10.0.0.0/95']) {
      expect(() => parseNetworks([cidr])).toThrow(new Error(`"${cidr}" has an invalid prefix length`));
    }
    expect(() => parseNetworks(['nope'])).toThrow(new Error('"nope" is not an IP network'));
  });

  it('reads allow-list entries with spaces around them, without a prefix, as mapped IPv6, and skips empty ones', () => {
    expect(parseNetworks(['', '  '])).toEqual([]);
    const listed = addressCheck({ allowNetworks: [' 10.1.0.0/16 ', '10.9.9.9', '::ffff:10.2.0.0/112', '', 'fd00::/128'] });
    expect(listed('10.1.2.3')).toBeUndefined();
    expect(listed('10.9.9.9')).toBeUndefined();
    expect(listed('10.9.9.8')).toBe('private');
    expect(listed('10.2.3.4')).toBeUndefined();
    expect(listed('10.3.0.1')).toBe('private');
    expect(listed('fd00::')).toBeUndefined();
    expect(listed('fd00::1')).toBe('private');
    expect(addressCheck({ allowNetworks: ['0.0.0.0/0'] })('10.0.0.1')).toBeUndefined();
    expect(addressCheck({ allowNetworks: ['0.0.0.0/0'] })('fd00::1')).toBe('private');
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
        expect(err).toMatchObject({
          address: '10.0.0.7',
          category: 'private',
          code: 'ERR_TARGET_REFUSED',
          name: 'TargetRefusedError',
          message: '10.0.0.7 is a private address, which targets may not use (see --allow-target-networks)',
        });
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
      const [failed, none] = await new Promise<[unknown, unknown]>((done) => guardedLookup(addressCheck(), failing)('nowhere.example', {}, (e, a) => done([e, a])));
      expect(failed).toMatchObject({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nowhere.example' });
      expect(none).toEqual([]);
      const [err, address] = await lookupOf([], false).result;
      expect(err).toMatchObject({ code: 'ENOTFOUND', message: 'no address for target.example' });
      expect(address).toEqual([]);
    });
  });

  describe('node:http(s) agents', () => {
    let server: Server;
    let port: number;
    let requests = 0;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        requests++;
        res.end('ok');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    /** The status of a GET, or the error it failed with. */
    const outcome = (request: (done: (result: unknown) => void) => ClientRequest) =>
      new Promise<unknown>((done) => {
        request((result) => done(result)).on('error', (err) => done(err));
      });
    const get = (host: string, agent: Agent) => outcome((done) => httpGet({ host, port, path: '/', agent }, (res) => (res.resume(), done(res.statusCode))));

    it('keeps connections alive', () => {
      const { httpAgent, httpsAgent } = guardedNodeAgents();
      const keepAlive = (agent: object) => (agent as { keepAlive?: boolean }).keepAlive;
      expect([keepAlive(httpAgent), keepAlive(httpsAgent)]).toEqual([true, true]);
    });

    it('refuse an address literal or a name that resolves to a refused address, before connecting', async () => {
      const { httpAgent, httpsAgent } = guardedNodeAgents();
      const before = requests;
      expect(await get('127.0.0.1', httpAgent)).toMatchObject({ code: 'ERR_TARGET_REFUSED', address: '127.0.0.1', category: 'loopback' });
      expect(await get('localhost', httpAgent)).toMatchObject({ code: 'ERR_TARGET_REFUSED', category: 'loopback' });
      const https = await outcome((done) => httpsGet({ host: '127.0.0.1', port, path: '/', agent: httpsAgent }, (res) => done(res.statusCode)));
      expect(https).toMatchObject({ code: 'ERR_TARGET_REFUSED', address: '127.0.0.1' });
      expect(requests).toBe(before);
    });

    it('connect where the policy allows, by address and by name', async () => {
      const { httpAgent } = guardedNodeAgents({ allowLoopback: true });
      expect(await get('127.0.0.1', httpAgent)).toBe(200);
      expect(await get('localhost', httpAgent)).toBe(200);
      httpAgent.destroy();
    });

    it('check a bracketed IPv6 literal, and throw when the caller gives no callback', () => {
      const { httpAgent } = guardedNodeAgents();
      const createConnection = (httpAgent as unknown as { createConnection: (o: NetConnectOpts & { host?: string }, cb?: unknown) => Socket | undefined }).createConnection;
      let refused: unknown;
      expect(createConnection({ host: '[::1]', port }, (err: unknown) => (refused = err))).toBeUndefined();
      expect(refused).toMatchObject({ address: '::1', category: 'loopback' });
      expect(() => createConnection({ host: '169.254.169.254', port: 80 })).toThrow(new TargetRefusedError('169.254.169.254', 'metadata'));
    });
  });
});
