import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type NetConnectOpts, type Socket } from 'node:net';

/**
 * Which addresses targets may have. By default only public addresses: a registered URL must not
 * turn the gateway into a proxy to its own host, its private network or the cloud metadata service.
 */
export interface TargetNetworkPolicy {
  /** CIDRs always allowed, checked first (e.g. `127.0.0.0/8`, `10.0.0.0/8`, `fd00::/8`). */
  allowNetworks?: readonly string[];
  /** Allows 10/8, 172.16/12, 192.168/16, 100.64/10 and fc00::/7 (never the metadata addresses in them). */
  allowPrivate?: boolean;
  /** Allows 127/8 and ::1 (what `--dev` turns on). */
  allowLoopback?: boolean;
}

/** Why an address is not public. */
export type AddressCategory = 'metadata' | 'unspecified' | 'loopback' | 'link-local' | 'private' | 'reserved';

/** A connection refused because of the target network policy; carries no secret, only the address. */
export class TargetRefusedError extends Error {
  readonly code = 'ERR_TARGET_REFUSED';

  constructor(
    readonly address: string,
    readonly category: AddressCategory,
  ) {
    super(`${address} is a ${category} address, which targets may not use (see --allow-target-networks)`);
    this.name = 'TargetRefusedError';
  }
}

interface Ip {
  v6: boolean;
  value: bigint;
}

interface Network extends Ip {
  bits: number;
}

/** Most specific first: the first match names the category. */
const SPECIAL_NETWORKS: ReadonlyArray<readonly [string, AddressCategory]> = [
  ['169.254.169.254/32', 'metadata'],
  ['169.254.170.2/32', 'metadata'],
  ['fd00:ec2::254/128', 'metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'private'],
  ['224.0.0.0/3', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fc00::/7', 'private'],
  ['ff00::/8', 'reserved'],
  ['::/96', 'reserved'],
];

const special = SPECIAL_NETWORKS.map(([cidr, category]) => ({ network: parseCidr(cidr), category }));

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseV6(text: string): bigint | undefined {
  let s = text.split('%')[0] ?? '';
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return undefined;
  const groups = [...head, ...Array<string>(missing).fill('0'), ...rest];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

/**
 * An address as a number; IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, NAT64
 * `64:ff9b::/96`, the old compatible `::a.b.c.d`) become that IPv4 address, so they meet its rules.
 */
export function parseIp(text: string): Ip | undefined {
  const family = isIP(text.split('%')[0] ?? '');
  if (family === 4) {
    const value = parseV4(text);
    return value === undefined ? undefined : { v6: false, value };
  }
  if (family !== 6) return undefined;
  const value = parseV6(text);
  if (value === undefined) return undefined;
  const high = value >> 32n;
  const low = value & 0xffffffffn;
  if (high === 0xffffn || high === 0x64ff9b0000000000000000n || (high === 0n && low > 1n)) return { v6: false, value: low };
  return { v6: true, value };
}

function parseCidr(cidr: string): Network {
  const [address = '', bitsText] = cidr.trim().split('/');
  const ip = parseIp(address);
  if (!ip) throw new Error(`"${cidr}" is not an IP network`);
  const width = ip.v6 ? 128 : 32;
  // A mapped IPv6 network (::ffff:10.0.0.0/104) became IPv4: its prefix shrinks by 96 bits.
  const declaredWidth = isIP(address) === 6 ? 128 : 32;
  const bits = bitsText === undefined ? width : Number(bitsText) - (declaredWidth - width);
  if (!/^\d*$/.test(bitsText ?? '') || !Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`"${cidr}" has an invalid prefix length`);
  return { ...ip, bits };
}

function contains(network: Network, ip: Ip): boolean {
  if (network.v6 !== ip.v6) return false;
  const shift = BigInt((ip.v6 ? 128 : 32) - network.bits);
  return ip.value >> shift === network.value >> shift;
}

/** Parses `--allow-target-networks`; throws with a readable message on a bad entry. */
export function parseNetworks(list: readonly string[]): Network[] {
  return list.filter((cidr) => cidr.trim() !== '').map(parseCidr);
}

/** The decision for one address: undefined when allowed, else why not. */
export type AddressCheck = (address: string) => AddressCategory | undefined;

/** Builds the check of a policy; explicit networks win over every category. */
export function addressCheck(policy: TargetNetworkPolicy = {}): AddressCheck {
  const allowed = parseNetworks(policy.allowNetworks ?? []);
  return (address) => {
    const ip = parseIp(address);
    if (!ip) return 'reserved';
    if (allowed.some((network) => contains(network, ip))) return undefined;
    const category = special.find((s) => contains(s.network, ip))?.category;
    if (category === 'loopback' && policy.allowLoopback) return undefined;
    if (category === 'private' && policy.allowPrivate) return undefined;
    return category;
  };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Resolves every address of a name, as `dns.lookup` with `all: true` does. */
export type ResolveAll = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A `dns.lookup` replacement that resolves every address of a name and refuses the name when any of
 * them is not allowed: the socket then connects to exactly the addresses checked here, so neither a
 * second resolution (DNS rebinding) nor a mixed answer can slip a private address through. `resolve`
 * is the system resolver but for tests, which need answers no real name gives.
 */
export function guardedLookup(check: AddressCheck, resolve: ResolveAll = dnsLookup) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const { address } of addresses) {
        const refused = check(address);
        if (refused) return callback(new TargetRefusedError(address, refused), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      return callback(null, first.address, first.family);
    });
  };
}

/**
 * node:http(s) agents that apply the policy, for clients that do not use undici (the AWS SDK with an
 * `endpoint` override, the Lambda HTTP transport): IP literals are checked before connecting, names through the guarded lookup.
 */
export function guardedNodeAgents(policy: TargetNetworkPolicy = {}): { httpAgent: HttpAgent; httpsAgent: HttpsAgent } {
  const check = addressCheck(policy);
  const lookup = guardedLookup(check);
  const guard = <A extends HttpAgent | HttpsAgent>(agent: A): A => {
    const create = (agent as unknown as { createConnection: (o: NetConnectOpts, cb?: unknown) => Socket }).createConnection.bind(agent);
    (agent as unknown as { createConnection: unknown }).createConnection = (options: NetConnectOpts & { host?: string }, callback?: unknown) => {
      const host = (options.host ?? '').replace(/^\[|\]$/g, '');
      const refused = isIP(host) ? check(host) : undefined;
      if (!refused) return create({ ...options, lookup }, callback);
      const err = new TargetRefusedError(host, refused);
      // Through the agent's callback the request fails with an 'error' event, as for any failed connection;
      // a throw would escape from http.request() itself, past its callers' error handling.
      if (typeof callback !== 'function') throw err;
      (callback as (e: Error) => void)(err);
      return undefined;
    };
    return agent;
  };
  return { httpAgent: guard(new HttpAgent({ keepAlive: true })), httpsAgent: guard(new HttpsAgent({ keepAlive: true })) };
}
