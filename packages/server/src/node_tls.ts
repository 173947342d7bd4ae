/**
 * The inter-node TLS of a secure cluster node (`strata start --certs-dir --join`): its RPC server
 * and its connections to the other nodes present node.crt and trust only ca.crt (mutual TLS,
 * @strata/rpc tls.ts).
 *
 * The other nodes dial this node at its advertised RPC address and verify that node.crt is valid
 * for it, so a node certificate that does not name that host would make the node unreachable
 * with an error only the other nodes see; it is refused here at start instead, with the command
 * that makes a suitable one. The certificate must also be a node certificate (CN=node, as
 * `strata cert create-node` makes it): the other nodes serve their inter-node calls to nothing
 * else.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { nodeCertificateUser, tlsRpcCredentials } from '@strata/rpc';
import type { RpcCredentials } from '@strata/rpc';
import { CertificateError } from './node_certs.js';
import type { NodeCerts } from './node_certs.js';

/** host of `host:port` (brackets of an IPv6 address removed). */
export function hostOfAddress(addr: string): string {
  const m = /^(.*):(\d+)$/.exec(addr);
  return (m ? (m[1] as string) : addr).replace(/^\[(.*)\]$/, '$1');
}

/** Whether a listen host is a wildcard (any address): it is no address another node can dial. */
function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}

/**
 * Checks that the node certificate is a node certificate valid for `advertiseHost` (the host part
 * of the address other nodes dial); throws CertificateError saying what to do if not.
 */
export function checkNodeCertificateFor(certs: NodeCerts, advertiseHost: string): void {
  const path = join(certs.dir, 'node.crt');
  const cert = new X509Certificate(certs.cert);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  if (cn !== nodeCertificateUser) {
    throw new CertificateError(`${path} is not a node certificate (its CN is ${cn ?? 'missing'}, not ${nodeCertificateUser}): make one with \`strata cert create-node HOST…\``);
  }
  if (isWildcard(advertiseHost)) return; // no dialable address to check: --advertise-rpc-addr names it
  const valid = isIP(advertiseHost) ? cert.checkIP(advertiseHost) !== undefined : cert.checkHost(advertiseHost) !== undefined;
  if (!valid) {
    throw new CertificateError(
      `${path} is not valid for ${advertiseHost}, the RPC address other nodes dial (its names: ${cert.subjectAltName ?? 'none'}); ` +
        `make one that names it: strata cert create-node ${advertiseHost} [other names…] --certs-dir=${certs.dir} --ca-key=… --overwrite`,
    );
  }
}

/** The credentials of a secure cluster node, after checking its certificate (checkNodeCertificateFor). */
export function nodeRpcCredentials(certs: NodeCerts, cluster: { rpcHost: string; advertiseRpcAddr?: string }): RpcCredentials {
  checkNodeCertificateFor(certs, cluster.advertiseRpcAddr ? hostOfAddress(cluster.advertiseRpcAddr) : cluster.rpcHost);
  return tlsRpcCredentials(certs);
}
