#!/usr/bin/env node
import { main } from '../dist/src/index.js';
main(process.argv).catch((e) => {
  process.stderr.write(`strata: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
