/**
 * How `strata init` and `strata node …` talk to a node's RPC address: plaintext with --insecure,
 * or mutual TLS with --certs-dir. As CockroachDB's CLI, they present root's client certificate
 * (client.root.crt/key); on a node's machine, where only the node certificate is at hand, they
 * present node.crt/key instead. The node's certificate is verified against ca.crt and the --host
 * address. Insecure mode must be asked for: neither flag, or both, is an error.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { adminCertificateUser, tlsRpcCredentials } from '@strata/rpc';
import type { RpcCredentials } from '@strata/rpc';

export interface AdminSecurityFlags {
  insecure: boolean;
  certsDir?: string;
}

/** The channel credentials of an admin command (undefined: plaintext); throws on contradictory or missing flags or files. */
export function adminCredentials(o: AdminSecurityFlags): RpcCredentials['channel'] | undefined {
  if (o.insecure && o.certsDir) throw new Error('--insecure and --certs-dir contradict each other: pass one of them');
  if (o.insecure) return undefined;
  if (!o.certsDir) {
    throw new Error('pass --certs-dir=DIR to talk to a secure cluster (ca.crt and client.root.crt/key, or node.crt/key), or --insecure for a cluster started with --insecure');
  }
  const dir = o.certsDir;
  const ca = join(dir, 'ca.crt');
  if (!existsSync(ca)) throw new Error(`${ca} does not exist (the cluster CA certificate: see \`strata cert create-ca\`)`);
  const pairs = [`client.${adminCertificateUser}`, 'node'].map((base) => ({ cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) }));
  const pair = pairs.find((p) => existsSync(p.cert) && existsSync(p.key));
  if (!pair) throw new Error(`${dir} holds neither client.${adminCertificateUser}.crt/key nor node.crt/key (make root's with \`strata cert create-client ${adminCertificateUser}\`)`);
  const mode = statSync(pair.key).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new Error(`private key file ${pair.key} has group or world access (mode ${mode.toString(8)}); it must be 0600 or stricter (chmod 600 ${pair.key})`);
  return tlsRpcCredentials({ ca: readFileSync(ca, 'utf8'), cert: readFileSync(pair.cert, 'utf8'), key: readFileSync(pair.key, 'utf8') }).channel;
}
