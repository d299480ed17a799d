import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createGzip } from 'node:zlib';
import { cloudTrailObjectChunks, cloudTrailObjectText, generateCloudTrailRecords } from '../samples/index.js';

/** A gzipped CloudTrail object as CloudTrail writes it, with what it holds. */
export interface BenchObject {
  gz: Buffer;
  decompressedBytes: number;
  records: number;
  /** The CloudTrail eventIDs, only kept for small objects (latency probes look them up). */
  ids?: string[];
}

/** Records of synthetic CloudTrail average ~1.7 KB; below this, objects are built record by record. */
const SMALL_OBJECT_BYTES = 400_000;
const AVERAGE_RECORD_BYTES = 1_700;

/**
 * One CloudTrail object of about `targetBytes` decompressed, unique for `seed` (event ids differ between
 * seeds, so objects never collide on document id). Large objects are generated and gzipped as a stream.
 */
export async function cloudTrailObject(
  seed: number,
  targetBytes: number,
  keepIds = false,
): Promise<BenchObject> {
  if (targetBytes < SMALL_OBJECT_BYTES) {
    const records = generateCloudTrailRecords({
      seed,
      count: Math.max(1, Math.round(targetBytes / AVERAGE_RECORD_BYTES)),
      start: new Date(),
    });
    const text = Buffer.from(cloudTrailObjectText(records));
    const gz = await buffer(Readable.from([text]).pipe(createGzip({ level: 6 })));
    return {
      gz,
      decompressedBytes: text.length,
      records: records.length,
      ...(keepIds ? { ids: records.map((r) => String((r as { eventID: string }).eventID)) } : {}),
    };
  }
  let decompressedBytes = 0;
  let records = 0;
  const source = Readable.from(
    (function* () {
      let index = 0;
      for (const chunk of cloudTrailObjectChunks({ seed, targetBytes })) {
        decompressedBytes += chunk.length;
        // The generator writes the envelope's opening, then 200 records per chunk, then its closing `]}`.
        if (index++ > 0 && chunk.length > 2) records += 200;
        yield chunk;
      }
    })(),
  );
  const gz = await buffer(source.pipe(createGzip({ level: 6 })));
  return { gz, decompressedBytes, records };
}
