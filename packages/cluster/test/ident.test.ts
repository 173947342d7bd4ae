import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRejoin, identFileName, newClusterIdent, readIdent, writeIdent } from '../src/index.js';

describe('store identity', () => {
  it('is written once, read back, refused when corrupt, and checked on rejoin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ident-'));
    expect(readIdent(dir)).toBeNull();
    const ident = newClusterIdent();
    expect(ident.nodeId).toBe(1);
    writeIdent(dir, { ...ident, nodeId: 4 });
    expect(readIdent(dir)).toEqual({ clusterId: ident.clusterId, nodeId: 4 });
    expect(JSON.parse(readFileSync(join(dir, identFileName), 'utf8'))).toEqual({ clusterId: ident.clusterId, nodeId: 4 });
    expect(() => checkRejoin(ident.clusterId, { clusterId: ident.clusterId, nodeId: 4 })).not.toThrow();
    expect(() => checkRejoin('another', { clusterId: ident.clusterId, nodeId: 4 })).toThrow(/belongs to cluster/);
    writeFileSync(join(dir, identFileName), '{"clusterId": 7}');
    expect(() => readIdent(dir)).toThrow(/not a valid store identity/);
  });
});
