/**
 * Elastic's CloudTrail pipeline stores requestParameters, responseElements, additionalEventData and
 * serviceEventDetails a second time as the Java `Map.toString()` of the parsed JSON (`{k=v, k2=[a, b]}`),
 * and Elastic's detection rules search that string (e.g. `Effect=Allow`). Elasticsearch parses JSON into
 * `java.util.HashMap`s, so keys come out in HashMap iteration order, not document order. This reproduces
 * that order: bucket index from `String.hashCode()` (spread as HashMap does) over the table size the
 * inserted keys grew it to, ties in insertion order.
 */

/**
 * Removes null, empty strings, and containers left empty, recursively, as Elastic's pipeline does first.
 * A container with nothing to remove is returned as it is, not copied: most are, and the ECS document may
 * share them with the parsed record (neither is changed afterwards).
 */
export function dropEmpty(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const kept = dropEmpty(item);
      if (out === undefined && (kept !== item || kept === undefined)) out = value.slice(0, i);
      if (out !== undefined && kept !== undefined) out.push(kept);
    }
    const result = out ?? value;
    return result.length === 0 ? undefined : result;
  }
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    let kept = 0;
    for (const key in object) {
      const child = object[key];
      const cleaned = dropEmpty(child);
      if (out === undefined && (cleaned !== child || cleaned === undefined)) {
        // The first change: copy the keys before it, which were all kept unchanged.
        out = {};
        for (const earlier in object) {
          if (earlier === key) break;
          out[earlier] = object[earlier];
        }
      }
      if (cleaned === undefined) continue;
      kept++;
      if (out !== undefined) out[key] = cleaned;
    }
    return kept === 0 ? undefined : (out ?? object);
  }
  return value;
}

/**
 * The Java `toString()` of a value after {@link dropEmpty} (pass `cleaned` when the caller has it already).
 * The original tells, per object, how many keys the HashMap held before empty values were removed (it
 * never shrinks), which fixes its table size.
 */
export function javaMapString(original: unknown, cleaned: unknown = dropEmpty(original)): string {
  return render(original, cleaned);
}

function render(original: unknown, value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value)) {
    const originals = Array.isArray(original) ? original.filter((v) => dropEmpty(v) !== undefined) : [];
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) parts.push(render(originals[i], value[i]));
    return `[${parts.join(', ')}]`;
  }
  if (typeof value === 'object') {
    const inserted = original && typeof original === 'object' ? Object.keys(original).length : 0;
    const keys = hashMapOrder(Object.keys(value as Record<string, unknown>), inserted);
    const parts: string[] = [];
    for (const key of keys) {
      parts.push(
        `${key}=${render((original as Record<string, unknown>)[key], (value as Record<string, unknown>)[key])}`,
      );
    }
    return `{${parts.join(', ')}}`;
  }
  if (typeof value === 'number') return javaNumber(value);
  return String(value);
}

const hashCache = new Map<string, number>();

function javaStringHash(s: string): number {
  let h = hashCache.get(s);
  if (h !== undefined) return h;
  h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  if (hashCache.size < 100_000) hashCache.set(s, h);
  return h;
}

/** Iteration order of a HashMap into which `inserted` keys were put (keys listed in insertion order). */
export function hashMapOrder(keys: string[], inserted = keys.length): string[] {
  if (keys.length < 2) return keys;
  let capacity = 16;
  while (inserted > capacity * 0.75) capacity *= 2;
  const mask = capacity - 1;
  const slots = keys.map((key, position) => {
    const h = javaStringHash(key);
    return { key, bucket: (h ^ (h >>> 16)) & mask, position };
  });
  slots.sort((a, b) => a.bucket - b.bucket || a.position - b.position);
  return slots.map((s) => s.key);
}

/** Java prints integers plainly and doubles with a fraction; JSON numbers with no fraction parse as Integer/Long. */
function javaNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return String(n);
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) return String(n);
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}
