import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LogType, RawRecord } from '../../../../src/types.js';
import { decodeAll, HAVE_PEER, PEER_DIR, records } from '../../decode/helpers.js';

export { HAVE_PEER, PEER_SKIP_REASON } from '../../decode/helpers.js';

const FLOW_FILES = /extra-samples|tcp-flag|v5-all|v8-samples|with-message/;

/** Every raw record of every public peer file (Elastic's pipeline-test inputs and the attack datasets). */
export async function peerRecords(): Promise<Map<string, RawRecord[]>> {
  const out = new Map<string, RawRecord[]>();
  if (!HAVE_PEER) return out;
  for (const dir of ['elastic', 'attacks']) {
    for (const name of readdirSync(join(PEER_DIR, dir))) {
      if (name.endsWith('.md')) continue;
      const logType: LogType = FLOW_FILES.test(name) ? 'vpcflow' : 'cloudtrail';
      const results = await decodeAll(
        createReadStream(join(PEER_DIR, dir, name)) as AsyncIterable<Uint8Array>,
        {
          origin: { key: `${dir}/${name}` },
          logType,
        },
      );
      out.set(name, records(results));
    }
  }
  return out;
}
