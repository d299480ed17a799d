import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with the expected one in constant time. Both sides are hashed first so
 * the buffers always have equal length: timingSafeEqual throws on unequal lengths, and an early return
 * on length would leak it.
 */
export function secretEquals(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Hex HMAC-SHA256 over `timestamp.body`, the string a sender signs for /alerts/generic. */
export function signBody(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** Accepts `sha256=<hex>` or bare hex. */
export function verifySignature(secret: string, timestamp: string, body: Buffer, presented: string): boolean {
  const hex = presented.startsWith('sha256=') ? presented.slice(7) : presented;
  return secretEquals(hex.toLowerCase(), signBody(secret, timestamp, body));
}

/**
 * How far ahead of this clock a signed timestamp may be. Only clock skew: a sender stamping the future
 * would otherwise get a request that stays acceptable for longer than the replay window.
 */
export const MAX_FUTURE_SKEW_SECONDS = 30;

/**
 * Why a signed timestamp (Unix seconds) is refused at `nowMs`, or undefined. The past is allowed one
 * replay window, the future a small skew (never more than the window, which the config promises bounds
 * both directions).
 */
export function timestampRefusal(
  timestamp: number,
  nowMs: number,
  windowSeconds: number,
): string | undefined {
  const age = nowMs / 1000 - timestamp;
  if (age > windowSeconds) return 'timestamp outside the replay window';
  if (-age > Math.min(MAX_FUTURE_SKEW_SECONDS, windowSeconds)) return 'timestamp is in the future';
  return undefined;
}

/**
 * Remembers the signed requests accepted while their timestamps can still be accepted; a second one is a
 * replay. The key is a hash of what the signature covers (`timestamp.body`), not the signature as sent:
 * `sha256=<hex>`, bare hex and upper-case hex all verify, so keying on the header would let a captured
 * request through again with its signature re-spelled.
 */
export class ReplayGuard {
  readonly #windowMs: number;
  /** Key → the last instant (ms) its timestamp is accepted; insertion order. */
  readonly #until = new Map<string, number>();

  constructor(windowSeconds: number) {
    this.#windowMs = windowSeconds * 1000;
  }

  /** Entries held; bounded by the accepted request rate times (window + future skew). */
  get size(): number {
    return this.#until.size;
  }

  /**
   * True the first time this signed request is seen. Call only for a verified signature and an accepted
   * timestamp. An entry is kept until its timestamp is refused anyway (ts + window), not one window after
   * it was seen, or a request stamped ahead of the clock could be replayed after eviction.
   */
  firstSeen(timestamp: string, body: Buffer, now: number): boolean {
    // Expiries are not in insertion order (timestamps may differ from the clock by up to a window), so
    // stopping at the first live entry can keep an expired one behind it a little longer; every entry is
    // still gone within window + skew of being added, which is what bounds the memory. Never early.
    for (const [key, until] of this.#until) {
      if (until >= now) break;
      this.#until.delete(key);
    }
    const key = createHash('sha256').update(`${timestamp}.`).update(body).digest('base64');
    if (this.#until.has(key)) return false;
    this.#until.set(key, Number(timestamp) * 1000 + this.#windowMs);
    return true;
  }
}
