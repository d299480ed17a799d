import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ActionName } from './config.js';
import { ActionAlreadyRecordedError } from './errors.js';
import type { ActionRecord, ActionStore } from './store.js';

/** One generation of a key: applied once, undone at most once. An alert acting again after an undo opens the next. */
interface Generation {
  gen: number;
  appliedKey: string;
  /** From the undo marker's LastModified: the listing says all the runner needs. */
  undoneAt?: string | undefined;
}

const OBJECT = /^(\d+)\.(applied|undone)\.json$/;
/** Parallel GETs when many records are read at once (cold start, sweep). */
const READ_CONCURRENCY = 8;
/** S3 answers 409 while another conditional write to the same key is in flight; it asks for a retry. */
const CONFLICT_RETRIES = 3;

export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!match) throw new Error(`expected s3://bucket/prefix, got ${location}`);
  return { bucket: match[1]!, prefix: match[2] ? match[2].replace(/\/?$/, '/') : '' };
}

/**
 * The action store on S3, shared by every receiver (Lambda containers side by side, cold starts, the CLI).
 * One object per applied record and one per undo, under `PREFIX/records/<key>/<generation>.applied.json`
 * and `.undone.json`: nothing is ever rewritten, so concurrent writers cannot lose each other's lines, and
 * an applied record is created with `If-None-Match: *`, so two receivers acting on one alert record it
 * once. Every read lists the prefix (S3 lists are strongly consistent); record bodies never change, so
 * they are cached once read.
 */
export class S3ActionStore implements ActionStore {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #root: string;
  readonly #bodies = new Map<string, ActionRecord>();

  constructor(s3: S3Client, location: string) {
    const { bucket, prefix } = parseS3Location(location);
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#root = `${prefix}records/`;
  }

  async get(key: string): Promise<ActionRecord | undefined> {
    const latest = latestOf((await this.#list(key)).get(key));
    if (!latest) return undefined;
    const record = await this.#read(latest.appliedKey);
    return latest.undoneAt ? { ...record, undoneAt: latest.undoneAt } : record;
  }

  async active(action: ActionName, target: string): Promise<ActionRecord[]> {
    return (await this.allActive()).filter((r) => r.action === action && r.target === target).reverse();
  }

  /** Oldest first, as the file store keeps them. */
  async allActive(): Promise<ActionRecord[]> {
    const live: Generation[] = [];
    for (const gens of (await this.#list()).values()) {
      const latest = latestOf(gens);
      if (latest && !latest.undoneAt) live.push(latest);
    }
    const records = await mapLimit(live, READ_CONCURRENCY, (g) => this.#read(g.appliedKey));
    return records.sort((a, b) => a.appliedAt.localeCompare(b.appliedAt) || a.key.localeCompare(b.key));
  }

  async add(record: ActionRecord): Promise<void> {
    const latest = latestOf((await this.#list(record.key)).get(record.key));
    if (latest && !latest.undoneAt) throw new ActionAlreadyRecordedError(record.key);
    const objectKey = this.#objectKey(record.key, (latest?.gen ?? 0) + 1, 'applied');
    const { undoneAt: _undone, ...body } = record;
    if (!(await this.#create(objectKey, JSON.stringify(body))))
      throw new ActionAlreadyRecordedError(record.key);
    this.#bodies.set(objectKey, body);
  }

  async markUndone(key: string, at: Date): Promise<void> {
    const latest = latestOf((await this.#list(key)).get(key));
    if (!latest || latest.undoneAt) return;
    // A second undo of the same generation (a person and the sweeper at once) keeps the first marker.
    await this.#create(
      this.#objectKey(key, latest.gen, 'undone'),
      JSON.stringify({ key, at: at.toISOString() }),
    );
  }

  #objectKey(key: string, gen: number, kind: 'applied' | 'undone'): string {
    return `${this.#root}${key}/${String(gen).padStart(6, '0')}.${kind}.json`;
  }

  /** Generations by record key, for one key or (without one) for all. */
  async #list(key?: string): Promise<Map<string, Generation[]>> {
    const prefix = key === undefined ? this.#root : `${this.#root}${key}/`;
    const byKey = new Map<string, Map<number, Partial<Generation>>>();
    let token: string | undefined;
    do {
      const page = await this.#s3.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const rest = object.Key?.slice(this.#root.length) ?? '';
        const slash = rest.lastIndexOf('/');
        const match = OBJECT.exec(rest.slice(slash + 1));
        if (slash <= 0 || !match) continue;
        const recordKey = rest.slice(0, slash);
        if (key !== undefined && recordKey !== key) continue;
        const gens = byKey.get(recordKey) ?? new Map<number, Partial<Generation>>();
        byKey.set(recordKey, gens);
        const gen = Number(match[1]);
        const entry = gens.get(gen) ?? { gen };
        gens.set(gen, entry);
        if (match[2] === 'applied') entry.appliedKey = object.Key!;
        else entry.undoneAt = (object.LastModified ?? new Date(0)).toISOString();
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const out = new Map<string, Generation[]>();
    for (const [recordKey, gens] of byKey) {
      out.set(
        recordKey,
        [...gens.values()].filter((g): g is Generation => g.appliedKey !== undefined),
      );
    }
    return out;
  }

  async #read(objectKey: string): Promise<ActionRecord> {
    const cached = this.#bodies.get(objectKey);
    if (cached) return cached;
    const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: objectKey }));
    const record = JSON.parse((await out.Body?.transformToString('utf8')) ?? '') as ActionRecord;
    this.#bodies.set(objectKey, record);
    return record;
  }

  /** Creates an object only if none exists under its key; false when one does. */
  async #create(objectKey: string, body: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#s3.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: objectKey,
            Body: body,
            ContentType: 'application/json',
            IfNoneMatch: '*',
          }),
        );
        return true;
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 412 || (err as Error).name === 'PreconditionFailed') return false;
        if (status === 409 && attempt < CONFLICT_RETRIES) continue;
        throw err;
      }
    }
  }
}

function latestOf(gens: Generation[] | undefined): Generation | undefined {
  let latest: Generation | undefined;
  for (const g of gens ?? []) if (!latest || g.gen > latest.gen) latest = g;
  return latest;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
