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

// The two below read addresses that `isIP` has accepted, so they need not check the syntax again.

function v4Value(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(part), 0n);
}

/** Groups left of `::`, zeros for what it stands for, groups right of it; an IPv4 tail is two groups. */
function v6Value(address: string): bigint {
  let text = address;
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = v4Value(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string?];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest ? rest.split(':') : [];
  const zeros = Array<string>(8 - headGroups.length - restGroups.length).fill('0');
  return [...headGroups, ...zeros, ...restGroups].reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

/**
 * An address as a number; IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, NAT64
 * `64:ff9b::/96`, the old compatible `::a.b.c.d`) become that IPv4 address, so they meet its rules.
 * A zone (`%eth0`) is dropped from IPv6 addresses; an IPv4 address has none.
 */
export function parseIp(text: string): Ip | undefined {
  const [address, zone] = text.split('%') as [string, string?];
  const family = isIP(address);
  if (family === 4) return zone === undefined ? { v6: false, value: v4Value(address) } : undefined;
  if (family !== 6) return undefined;
  const value = v6Value(address);
  const high = value >> 32n;
  const low = value & 0xffffffffn;
  if (high === 0xffffn || high === 0x64ff9b0000000000000000n || (high === 0n && low > 1n)) return { v6: false, value: low };
  return { v6: true, value };
}

function parseCidr(cidr: string): Network {
  const [address, bitsText] = cidr.trim().split('/') as [string, string?];
  const ip = parseIp(address);
  if (!ip) throw new Error(`"${cidr}" is not an IP network`);
  const width = ip.v6 ? 128 : 32;
  // A mapped IPv6 network (::ffff:10.0.0.0/104) became IPv4: its prefix shrinks by 96 bits.
  const declaredWidth = isIP(address) === 6 ? 128 : 32;
  // Digits only: an empty prefix ("10.0.0.0/") must not read as /0, which would allow every address.
  const bits = bitsText === undefined ? width : /^\d+$/.test(bitsText) ? Number(bitsText) - (declaredWidth - width) : NaN;
  if (!Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`"${cidr}" has an invalid prefix length`);
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
