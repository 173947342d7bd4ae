/** The worker-thread entry of the reorganization pool (piscina): one RewriteJob per task. */
import { runRewrite } from './reorganize.js';
import type { RewriteJob, RewriteResult } from './reorganize.js';

export default function rewrite(job: RewriteJob): RewriteResult {
  return runRewrite(job);
}
