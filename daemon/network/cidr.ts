/** IPv4 addresses and CIDR blocks as numbers (IPv6 is not modelled). */
import { isIPv4 } from 'node:net';

export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

export function ipv4ToNumber(address: string): number | null {
  if (!isIPv4(address)) return null;
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** `10.0.0.0/16` → its base and prefix; null when it is not an IPv4 CIDR block. */
export function parseCidr(text: string): Cidr | null {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (match === null) return null;
  const base = ipv4ToNumber(match[1]!);
  const prefix = Number(match[2]);
  if (base === null || prefix > 32) return null;
  return { base: base - (base % 2 ** (32 - prefix)), prefix };
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  const size = 2 ** (32 - cidr.prefix);
  return address >= cidr.base && address < cidr.base + size;
}

/** Whether `inner` lies wholly inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.base);
}
