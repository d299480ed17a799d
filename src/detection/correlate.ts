import type { Leaf } from './match.js';
import type { Alert, CorrelationRule } from './model.js';

/** One event a correlation counts. */
export interface CountedEvent {
  ts: number;
  id: string;
  /** The rule's condition field (value_count, value_sum), when it has one. */
  value: Leaf | undefined;
}

/** Most event ids an alert lists; its value still counts every event. */
export const MAX_ALERT_EVENT_IDS = 1000;
/**
 * Most distinct values an open alert keeps to count them (value_count, event_count). Past it, values are
 * counted as new without being kept, so a value seen again may count twice: the alert's value is then a
 * close upper bound, and memory stays bounded during a flood.
 */
const MAX_ALERT_DISTINCT = 10_000;

/**
 * The running value of a correlation over a set of events, updated as events come and go: what a
 * window's check costs does not grow with the number of events in it (a flood of one group must not
 * turn each event's check into a pass over all the others).
 */
class Tally {
  /** Made on the first counted event: most groups of a busy rule see one or two events, then expire. */
  #counts: Map<string, number> | undefined;
  #sum = 0;
  #uncounted = 0;

  constructor(
    private readonly type: CorrelationRule['type'],
    private readonly maxDistinct = Number.POSITIVE_INFINITY,
  ) {}

  add(e: CountedEvent): void {
    if (this.type === 'value_sum') {
      this.#sum += numberOf(e.value);
      return;
    }
    const key = this.#keyOf(e);
    if (key === undefined) return;
    this.#counts ??= new Map();
    const n = this.#counts.get(key);
    if (n !== undefined) this.#counts.set(key, n + 1);
    else if (this.#counts.size < this.maxDistinct) this.#counts.set(key, 1);
    else this.#uncounted++;
  }

  remove(e: CountedEvent): void {
    if (this.type === 'value_sum') {
      this.#sum -= numberOf(e.value);
      return;
    }
    const key = this.#keyOf(e);
    if (key === undefined || !this.#counts) return;
    const n = this.#counts.get(key) ?? 0;
    if (n > 1) this.#counts.set(key, n - 1);
    else this.#counts.delete(key);
  }

  get value(): number {
    return this.type === 'value_sum' ? this.#sum : (this.#counts?.size ?? 0) + this.#uncounted;
  }

  #keyOf(e: CountedEvent): string | undefined {
    if (this.type === 'event_count') return e.id;
    return e.value === undefined ? undefined : String(e.value).toLowerCase();
  }
}

function numberOf(value: Leaf | undefined): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

/**
 * A group's events of the last `timespan`, oldest first, with their running value. Events leave from the
 * front by moving `head` (shifting a large array moves all of it); the dead front is cut off now and then.
 */
class Window {
  #events: CountedEvent[] = [];
  #head = 0;
  readonly tally: Tally;

  constructor(type: CorrelationRule['type']) {
    this.tally = new Tally(type);
  }

  get size(): number {
    return this.#events.length - this.#head;
  }

  get oldest(): number {
    return (this.#events[this.#head] as CountedEvent).ts;
  }

  get newest(): number {
    return (this.#events[this.#events.length - 1] as CountedEvent).ts;
  }

  *[Symbol.iterator](): IterableIterator<CountedEvent> {
    for (let i = this.#head; i < this.#events.length; i++) yield this.#events[i] as CountedEvent;
  }

  /** Adds an event in time order (objects are only roughly ordered: a late one is placed by search). */
  add(e: CountedEvent): void {
    const events = this.#events;
    let at = events.length;
    if (at > this.#head && (events[at - 1] as CountedEvent).ts > e.ts) {
      let lo = this.#head;
      while (lo < at) {
        const mid = (lo + at) >>> 1;
        if ((events[mid] as CountedEvent).ts <= e.ts) lo = mid + 1;
        else at = mid;
      }
    }
    if (at === events.length) events.push(e);
    else events.splice(at, 0, e);
    this.tally.add(e);
  }

  /** Drops events older than `from`; returns how many. */
  dropBefore(from: number): number {
    let n = 0;
    while (this.size > 0 && this.oldest < from) {
      this.dropOldest();
      n++;
    }
    return n;
  }

  dropOldest(): void {
    if (this.size === 0) return;
    this.tally.remove(this.#events[this.#head] as CountedEvent);
    this.#events[this.#head] = undefined as unknown as CountedEvent;
    this.#head++;
    if (this.#head === this.#events.length) {
      this.#events = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** A window that crossed the threshold: it collects every further event until it ends. */
interface OpenAlert {
  ids: Set<string>;
  tally: Tally;
  newest: number;
  endTs: number;
}

interface Group {
  key: Record<string, unknown>;
  window: Window;
  open?: OpenAlert;
}

export const CORRELATION_DEFAULTS: CorrelationLimits = { maxGroups: 20_000, maxWindowEvents: 20_000 };

export interface CorrelationLimits {
  /** Groups held at once; the least recently fed one without an open alert is dropped first. */
  maxGroups: number;
  /**
   * Events held in the windows of one rule, all groups together. Past it, the least recently fed group
   * gives up its oldest event: under a flood a window holds the latest events rather than the whole span.
   */
  maxWindowEvents: number;
}

/**
 * One correlation rule's groups. A window is the rule's timespan up to the newest event of its group
 * (event time from the documents, never the wall clock). A window that crosses the threshold opens an
 * alert that collects every further event of the group until it ends, so one burst gives one alert
 * listing the events in it (the first MAX_ALERT_EVENT_IDS).
 */
export class CorrelationState {
  /** Map order doubles as least-recently-fed order. */
  readonly #groups = new Map<string, Group>();
  /** Groups with an open alert, by the end of their window (earliest first). */
  #openByEnd: { endTs: number; key: string }[] = [];
  #held = 0;

  constructor(
    readonly rule: CorrelationRule,
    private readonly limits: CorrelationLimits,
    private readonly alertOf: (
      rule: CorrelationRule,
      ts: number,
      ids: string[],
      extra: Partial<Alert>,
    ) => Alert,
  ) {}

  feed(keyValues: Record<string, unknown>, e: CountedEvent): void {
    const key = JSON.stringify(this.rule.groupBy.map((f) => keyValues[f]));
    let group = this.#groups.get(key);
    if (group) {
      this.#groups.delete(key); // re-inserted below, as the most recently fed
    } else {
      group = { key: keyValues, window: new Window(this.rule.type) };
      if (this.#groups.size >= this.limits.maxGroups) this.#dropLeastRecentlyFed();
    }
    this.#groups.set(key, group);
    const open = group.open;
    if (open && e.ts <= open.endTs) {
      addToAlert(open, e);
      return;
    }
    const window = group.window;
    // An event older than the whole window (a late object) cannot change what the window holds.
    if (window.size > 0 && e.ts < window.newest - this.rule.timespanMs) return;
    window.add(e);
    this.#held++;
    this.#held -= window.dropBefore(window.newest - this.rule.timespanMs);
    if (!open && passes(this.rule, window.tally.value)) {
      const alert: OpenAlert = {
        ids: new Set(),
        tally: new Tally(this.rule.type, MAX_ALERT_DISTINCT),
        newest: window.newest,
        endTs: window.oldest + this.rule.timespanMs,
      };
      for (const event of window) addToAlert(alert, event);
      this.#held -= window.size;
      group.window = new Window(this.rule.type);
      group.open = alert;
      this.#addOpen(alert.endTs, key);
    }
    this.#keepWithinBudget();
  }

  /**
   * Closes the open alerts whose window ended before `limit` (the newest event time seen) and returns
   * them; groups whose newest event is a whole timespan older are dropped (no later event can reach them).
   */
  closeBefore(limit: number): Alert[] {
    const out: Alert[] = [];
    let closed = 0;
    for (const { endTs, key } of this.#openByEnd) {
      if (endTs >= limit) break;
      closed++;
      const group = this.#groups.get(key) as Group;
      const open = group.open as OpenAlert;
      group.open = undefined;
      if (group.window.size === 0) this.#groups.delete(key);
      out.push(
        this.alertOf(this.rule, open.newest, [...open.ids], { group: group.key, value: open.tally.value }),
      );
    }
    if (closed > 0) this.#openByEnd.splice(0, closed);
    // Least recently fed first; stop at the first group still in reach (or holding an alert, closed later).
    const reach = limit - this.rule.timespanMs;
    for (const [key, group] of this.#groups) {
      if (group.open || (group.window.size > 0 && group.window.newest >= reach)) break;
      this.#remove(key);
    }
    return out;
  }

  /** Groups held now. */
  get groups(): number {
    return this.#groups.size;
  }

  clear(): void {
    this.#groups.clear();
    this.#openByEnd = [];
    this.#held = 0;
  }

  #addOpen(endTs: number, key: string): void {
    const list = this.#openByEnd;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as { endTs: number }).endTs <= endTs) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, { endTs, key });
  }

  /** Makes room for a new group: the least recently fed one without an open alert goes. */
  #dropLeastRecentlyFed(): void {
    for (const [key, group] of this.#groups) {
      if (group.open) continue;
      this.#remove(key);
      return;
    }
  }

  #keepWithinBudget(): void {
    if (this.#held <= this.limits.maxWindowEvents) return;
    for (const [key, group] of this.#groups) {
      while (group.window.size > 0 && this.#held > this.limits.maxWindowEvents) {
        group.window.dropOldest();
        this.#held--;
      }
      if (group.window.size === 0 && !group.open) this.#groups.delete(key);
      if (this.#held <= this.limits.maxWindowEvents) return;
    }
  }

  #remove(key: string): void {
    this.#held -= (this.#groups.get(key) as Group).window.size;
    this.#groups.delete(key);
  }
}

function addToAlert(alert: OpenAlert, e: CountedEvent): void {
  if (alert.ids.size < MAX_ALERT_EVENT_IDS) alert.ids.add(e.id);
  alert.tally.add(e);
  if (e.ts > alert.newest) alert.newest = e.ts;
}

function passes(rule: CorrelationRule, value: number): boolean {
  return rule.condition.op === 'gt' ? value > rule.condition.value : value >= rule.condition.value;
}
