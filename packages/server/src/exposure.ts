/**
 * Insecure mode (no TLS, no passwords) makes anyone who reaches the port a superuser, so it may
 * listen only on loopback addresses unless the operator says otherwise with
 * --accept-insecure-non-loopback. A host name counts as loopback only if every address it
 * resolves to is loopback; the unspecified addresses (0.0.0.0, ::, "") mean every interface.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export function isLoopbackAddress(a: string): boolean {
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

export interface ExposedAddress {
  flag: string;
  host: string;
  addresses: string[];
}

/**
 * The listen addresses that are not loopback. Throws (the node must not start) if there are any
 * and they were not accepted explicitly.
 */
export async function checkInsecureAddresses(listen: { flag: string; host: string }[], accept: boolean): Promise<ExposedAddress[]> {
  const exposed: ExposedAddress[] = [];
  for (const { flag, host } of listen) {
    let addresses: string[];
    if (host === '' || host === '0.0.0.0' || host === '::' || host === '*') addresses = ['all interfaces'];
    else if (isIP(host) !== 0) addresses = [host];
    else addresses = (await lookup(host, { all: true })).map((a) => a.address);
    if (addresses.length > 0 && addresses.every(isLoopbackAddress)) continue;
    exposed.push({ flag, host, addresses });
  }
  if (exposed.length > 0 && !accept) {
    const e = exposed[0] as ExposedAddress;
    throw new Error(
      `refusing to listen on ${e.flag}=${e.host} in insecure mode: it is not a loopback address (${e.addresses.join(', ')}), and without TLS or passwords anyone who can reach it is superuser. Listen on 127.0.0.1, or pass --accept-insecure-non-loopback to accept that risk`,
    );
  }
  return exposed;
}
