/**
 * The node registry: each node's entry at /Nodes/registry/<nodeId> — its addresses, build, start
 * time and replica/leaseholder counts — written by the node with every liveness heartbeat (the
 * same transaction). Other nodes find a node's RPC address here (connections to it), and
 * `strata node status` joins it with the liveness records.
 */
import type { KvTxn } from '@strata/kvclient';
import { nodeKey, spanOf } from './keys.js';
import type { LivenessRecord } from './liveness.js';

export interface NodeDescriptor {
  nodeId: number;
  rpcAddr: string;
  sqlAddr: string;
  httpAddr: string;
  build: string;
  /** Wall-clock milliseconds. */
  startedAt: number;
  updatedAt: number;
  replicas: number;
  leaseholders: number;
}

export function encodeNode(d: NodeDescriptor): Buffer {
  return Buffer.from(JSON.stringify(d));
}

export function decodeNode(b: Buffer): NodeDescriptor {
  return JSON.parse(b.toString()) as NodeDescriptor;
}

/** Writes this node's entry in a transaction (the heartbeat's). */
export function putNode(t: KvTxn, d: NodeDescriptor): void {
  t.put(nodeKey(d.nodeId), encodeNode(d));
}

export async function readNodes(t: KvTxn): Promise<NodeDescriptor[]> {
  const [start, end] = spanOf('registry');
  return (await t.scan(start, end)).map((r) => decodeNode(r.value));
}

/** One row of `strata node status`. */
export interface NodeStatusRow {
  id: number;
  rpc_address: string;
  sql_address: string;
  build: string;
  started_at: string;
  updated_at: string;
  is_live: boolean;
  replicas: number;
  leaseholders: number;
  membership: string;
}

export function nodeStatusRows(nodes: NodeDescriptor[], liveness: LivenessRecord[], nowMs: number): NodeStatusRow[] {
  const live = new Map(liveness.map((l) => [l.nodeId, l]));
  return nodes
    .filter((n) => live.get(n.nodeId)?.membership !== 'decommissioned')
    .sort((a, b) => a.nodeId - b.nodeId)
    .map((n) => {
      const l = live.get(n.nodeId);
      return {
        id: n.nodeId,
        rpc_address: n.rpcAddr,
        sql_address: n.sqlAddr,
        build: n.build,
        started_at: new Date(n.startedAt).toISOString(),
        updated_at: new Date(n.updatedAt).toISOString(),
        is_live: !!l && l.expirationMs > nowMs,
        replicas: n.replicas,
        leaseholders: n.leaseholders,
        membership: l?.membership ?? 'unknown',
      };
    });
}
