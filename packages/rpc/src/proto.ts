/**
 * The repository's proto/*.proto files, loaded once at startup with protobufjs (reflection, no
 * generated code), and the gRPC service definitions derived from them: the .proto files are the
 * one source of truth for message shapes and method paths.
 *
 * gRPC (de)serializes nothing itself: every method moves Buffers, and the codecs (codec/*.ts)
 * encode and decode them — so a sender knows a message's size before it writes it (limits,
 * splitting, back-pressure accounting), and a receiver decodes inside its own error handling
 * (network input is untrusted: a malformed message is refused, it does not crash the server).
 */
import { existsSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** The .proto files of the wire, in dependency order. */
export const protoFiles = ['raft.proto', 'kv.proto', 'snapshot.proto', 'node.proto'] as const;

/**
 * The repository's proto/ directory, found by walking up from this module: it sits at the
 * repository root, three levels above src/ and four above dist/src/ (STRATA_PROTO_DIR overrides,
 * for installs that lay files out differently).
 */
export function protoDir(): string {
  const override = process.env.STRATA_PROTO_DIR;
  if (override) {
    if (!existsSync(join(override, protoFiles[0]))) throw new Error(`STRATA_PROTO_DIR=${override} holds no ${protoFiles[0]}`);
    return override;
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, protoFiles[0]))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no proto/${protoFiles[0]} above ${fileURLToPath(import.meta.url)}; set STRATA_PROTO_DIR`);
    dir = parent;
  }
}

let loaded: protobuf.Root | null = null;

/** The loaded schema (every type resolved). */
export function protoRoot(): protobuf.Root {
  if (loaded) return loaded;
  // 64-bit integers must decode to Long objects (exact), not to JS numbers (rounded above 2^53):
  // protobufjs does so only when the long package is present.
  if (!protobuf.util.Long) throw new Error('protobufjs has no Long support (the long package is missing): 64-bit fields would lose precision');
  // Typed arrays travel as their bytes in little-endian order (kv.proto ColumnData).
  if (endianness() !== 'LE') throw new Error('the wire codecs assume a little-endian host');
  const dir = protoDir();
  const root = new protobuf.Root();
  root.loadSync(
    protoFiles.map((f) => join(dir, f)),
    { keepCase: false },
  );
  root.resolveAll();
  loaded = root;
  return root;
}

/** A message type by its full name (e.g. `strata.raft.RaftMessageBatch`). */
export function protoType(name: string): protobuf.Type {
  return protoRoot().lookupType(name);
}

/** A service's gRPC method paths and streaming shapes, by method name. */
export interface RpcMethod {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

const identity = (b: Buffer): Buffer => b;

/** The gRPC service definition of a proto service: Buffers in, Buffers out (see above). */
export function serviceDefinition(fullName: string): ServiceDefinition {
  const svc = protoRoot().lookupService(fullName);
  const def: Record<string, MethodDefinition<Buffer, Buffer>> = {};
  for (const m of svc.methodsArray) {
    def[m.name] = {
      path: `/${fullName}/${m.name}`,
      requestStream: m.requestStream === true,
      responseStream: m.responseStream === true,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
  }
  return def;
}

/** A method of a proto service (throws if the .proto files lack it: the code and the schema disagree). */
export function rpcMethod(service: string, method: string): RpcMethod {
  const m = protoRoot().lookupService(service).methods[method];
  if (!m) throw new Error(`proto service ${service} has no method ${method}`);
  return { path: `/${service}/${method}`, requestStream: m.requestStream === true, responseStream: m.responseStream === true };
}

/** The services a node serves, by proto full name. */
export const Services = {
  raft: 'strata.raft.Raft',
  snapshots: 'strata.snapshot.Snapshots',
  internal: 'strata.kv.Internal',
  node: 'strata.node.Node',
} as const;
