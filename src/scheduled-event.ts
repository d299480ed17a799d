/**
 * The EventBridge Scheduled Event, shared by the Lambda entries that run on a schedule (the webhook's TTL
 * sweep, the consumer's S3 poll).
 */

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What EventBridge sends for a schedule rule (`rate(…)`/`cron(…)`), field for field. */
export interface ScheduledEvent {
  version: '0';
  id: string;
  'detail-type': 'Scheduled Event';
  source: 'aws.events';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, never>;
}

const SCHEDULED_EVENT_KEYS = [
  'account',
  'detail',
  'detail-type',
  'id',
  'region',
  'resources',
  'source',
  'time',
  'version',
].join();

/**
 * True only for the exact shape of an EventBridge Scheduled Event: these keys and no others, an empty
 * detail, and the rule's ARN among the resources. A function URL request arrives as `requestContext`,
 * `headers`, `body`…, and an SQS batch as `Records`, never with these top-level keys, so neither can
 * reach what a schedule runs.
 */
export function isScheduledEvent(event: unknown): event is ScheduledEvent {
  if (!isPlainObject(event)) return false;
  if (Object.keys(event).sort().join() !== SCHEDULED_EVENT_KEYS) return false;
  const e = event as Record<string, unknown>;
  return (
    e.source === 'aws.events' &&
    e['detail-type'] === 'Scheduled Event' &&
    e.version === '0' &&
    ['id', 'account', 'time', 'region'].every((k) => typeof e[k] === 'string') &&
    Array.isArray(e.resources) &&
    e.resources.length > 0 &&
    e.resources.every((r) => typeof r === 'string' && r.startsWith('arn:')) &&
    isPlainObject(e.detail) &&
    Object.keys(e.detail).length === 0
  );
}
