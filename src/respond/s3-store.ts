import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import PQueue from 'p-queue';
import { parseS3Location } from '../s3-location.js';
import type { ActionName } from './config.js';
import { ActionAlreadyRecordedError } from './errors.js';
import type { ActionRecord, ActionStore, CompactOptions, CompactResult } from './store.js';

/** One generation of a key: applied once, undone at most once. An alert acting again after an undo opens the next. */
interface Generation {
  gen: number;
  appliedKey: string;
  /** The applied object's ETag: a body is cached under it (a compacted key may start again at 1). */
  appliedTag?: string | undefined;
  undoneKey?: string | undefined;
  /** From the undo marker's LastModified: the listing says all the runner needs. */
  undoneAt?: string | undefined;
}

/** What the listing holds of a generation; an undo marker without its applied object is left by a compaction cut short. */
type ListedGeneration = Partial<Generation> & { gen: number };

const OBJECT = /^(\d+)\.(applied|undone)\.json$/;
/** Parallel GETs when many records are read at once (cold start, sweep). */
const READ_CONCURRENCY = 8;
/** Parallel deletes of one compaction. */
const DELETE_CONCURRENCY = 8;
/**
 * Records one compaction removes at most (two deletes each), so that a sweep stays well inside the webhook
 * Lambda's timeout even when a store first meets a retention with years of records; the next sweep goes on.
 */
const COMPACT_BATCH = 500;
/** S3 answers 409 while another conditional write to the same key is in flight; it asks for a retry. */
const CONFLICT_RETRIES = 3;

/**
 * The action store on S3, shared by every receiver (Lambda containers side by side, cold starts, the CLI).
 * One object per applied record and one per undo, under `PREFIX/records/<key>/<generation>.applied.json`
 * and `.undone.json`: nothing is ever rewritten, so concurrent writers cannot lose each other's lines, and
 * an applied record is created with `If-None-Match: *`, so two receivers acting on one alert record it
 * once. Every read lists the prefix (S3 lists are strongly consistent); record bodies never change, so
 * they are cached once read (under their ETag: a key compacted away may be recorded again later).
 *
 * `compact` deletes the objects of finished generations (undone long enough ago), so that what every
 * sweep and undo lists stays the size of what is live plus the retention window. In the versioned bucket
 * the templates create, a delete only adds a delete marker; a lifecycle rule expires the old versions.
 */
export class S3ActionStore implements ActionStore {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #root: string;
  readonly #compactBatch: number;
  readonly #bodies = new Map<string, { tag: string | undefined; record: ActionRecord }>();

  constructor(s3: S3Client, location: string, options: { compactBatch?: number } = {}) {
    const { bucket, prefix } = parseS3Location(location, 'respond.stateS3');
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#root = `${prefix}records/`;
    this.#compactBatch = options.compactBatch ?? COMPACT_BATCH;
  }

  async get(key: string): Promise<ActionRecord | undefined> {
    const latest = latestOf((await this.#list(key)).get(key));
    if (!latest) return undefined;
    const record = await this.#read(latest);
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
    const records = await new PQueue({ concurrency: READ_CONCURRENCY }).addAll(
      live.map((g) => () => this.#read(g)),
    );
    return records.sort((a, b) => a.appliedAt.localeCompare(b.appliedAt) || a.key.localeCompare(b.key));
  }

  async add(record: ActionRecord): Promise<void> {
    const listed = (await this.#scan(record.key)).get(record.key) ?? [];
    const latest = latestOf(applied(listed));
    if (latest && !latest.undoneAt) throw new ActionAlreadyRecordedError(record.key);
    // Past every generation listed, an undo marker left alone by a cut-short compaction included: a new
    // record must never land under an old marker and read as undone.
    const next = Math.max(0, ...listed.map((g) => g.gen)) + 1;
    const objectKey = this.#objectKey(record.key, next, 'applied');
    const { undoneAt: _undone, ...body } = record;
    const created = await this.#create(objectKey, JSON.stringify(body));
    if (!created) throw new ActionAlreadyRecordedError(record.key);
    this.#bodies.set(objectKey, { tag: created.tag, record: body });
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

  /**
   * Deletes the generations undone at or before `finishedBefore`, oldest first and at most a batch per
   * call; a key's generation goes only with every older one of the key, so that what stays of a key always
   * ends in the generation the store answered with before. The applied object goes before its undo marker:
   * cut short in between, the marker alone is ignored by every read, and deleted next time.
   */
  async compact(finishedBefore: Date, options: CompactOptions = {}): Promise<CompactResult> {
    const cutoff = finishedBefore.getTime();
    const due: { key: string; undoneAt: string; objects: string[] }[] = [];
    for (const [key, listed] of await this.#scan()) {
      for (const g of listed.sort((a, b) => a.gen - b.gen)) {
        if (g.undoneKey === undefined || g.undoneAt === undefined || !(Date.parse(g.undoneAt) <= cutoff))
          break;
        if (g.appliedKey === undefined) {
          due.push({ key, undoneAt: g.undoneAt, objects: [g.undoneKey] }); // a marker left alone
          continue;
        }
        due.push({ key, undoneAt: g.undoneAt, objects: [g.appliedKey, g.undoneKey] });
      }
    }
    // Stable: generations of one key keep their order.
    due.sort((a, b) => a.undoneAt.localeCompare(b.undoneAt) || a.key.localeCompare(b.key));
    const batch = due.slice(0, this.#compactBatch);
    const removed = batch.map(({ key, undoneAt }) => ({ key, undoneAt }));
    const more = due.length > batch.length;
    if (options.dryRun) return { removed, ...(more ? { more } : {}) };
    // Within a key, newest generation first: cut short, the key still ends in a finished generation.
    const byKey = new Map<string, string[][]>();
    for (const item of batch) byKey.set(item.key, [item.objects, ...(byKey.get(item.key) ?? [])]);
    await new PQueue({ concurrency: DELETE_CONCURRENCY }).addAll(
      [...byKey.values()].map((gens) => async () => {
        for (const objects of gens) {
          for (const objectKey of objects) {
            await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: objectKey }));
            this.#bodies.delete(objectKey);
          }
        }
      }),
    );
    return { removed, ...(more ? { more } : {}) };
  }

  #objectKey(key: string, gen: number, kind: 'applied' | 'undone'): string {
    return `${this.#root}${key}/${String(gen).padStart(6, '0')}.${kind}.json`;
  }

  /** Generations with their applied record, by record key, for one key or (without one) for all. */
  async #list(key?: string): Promise<Map<string, Generation[]>> {
    const out = new Map<string, Generation[]>();
    for (const [recordKey, listed] of await this.#scan(key)) out.set(recordKey, applied(listed));
    return out;
  }

  /** Every generation listed, undo markers without their applied object included. */
  async #scan(key?: string): Promise<Map<string, ListedGeneration[]>> {
    const prefix = key === undefined ? this.#root : `${this.#root}${key}/`;
    const byKey = new Map<string, Map<number, ListedGeneration>>();
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
        const gens = byKey.get(recordKey) ?? new Map<number, ListedGeneration>();
        byKey.set(recordKey, gens);
        const gen = Number(match[1]);
        const entry = gens.get(gen) ?? { gen };
        gens.set(gen, entry);
        if (match[2] === 'applied') {
          entry.appliedKey = object.Key!;
          entry.appliedTag = object.ETag;
        } else {
          entry.undoneKey = object.Key!;
          entry.undoneAt = (object.LastModified ?? new Date(0)).toISOString();
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const out = new Map<string, ListedGeneration[]>();
    for (const [recordKey, gens] of byKey) out.set(recordKey, [...gens.values()]);
    return out;
  }

  async #read(g: Generation): Promise<ActionRecord> {
    const cached = this.#bodies.get(g.appliedKey);
    // A listing without ETags (none known) trusts the cache, as before compaction existed.
    if (cached && (cached.tag === g.appliedTag || g.appliedTag === undefined)) return cached.record;
    const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: g.appliedKey }));
    const record = JSON.parse((await out.Body?.transformToString('utf8')) ?? '') as ActionRecord;
    this.#bodies.set(g.appliedKey, { tag: out.ETag ?? g.appliedTag, record });
    return record;
  }

  /** Creates an object only if none exists under its key; undefined when one does. */
  async #create(objectKey: string, body: string): Promise<{ tag: string | undefined } | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.#s3.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: objectKey,
            Body: body,
            ContentType: 'application/json',
            IfNoneMatch: '*',
          }),
        );
        return { tag: out.ETag };
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 412 || (err as Error).name === 'PreconditionFailed') return undefined;
        if (status === 409 && attempt < CONFLICT_RETRIES) continue;
        throw err;
      }
    }
  }
}

function applied(listed: ListedGeneration[]): Generation[] {
  return listed.filter((g): g is Generation => g.appliedKey !== undefined);
}

function latestOf(gens: Generation[] | undefined): Generation | undefined {
  let latest: Generation | undefined;
  for (const g of gens ?? []) if (!latest || g.gen > latest.gen) latest = g;
  return latest;
}
