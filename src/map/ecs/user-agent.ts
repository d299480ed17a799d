import { UAParser } from 'ua-parser-js';

const cache = new Map<string, Record<string, unknown>>();
const CACHE_LIMIT = 10_000;
/** SDK and CLI agents (`aws-cli/2.17.60 ...`, `Boto3/1.34.1 ...`): product/version first. */
const PRODUCT_TOKEN = /^([A-Za-z][\w.-]*)\/(\d[\w.-]*)/;

/**
 * ECS user_agent from a User-Agent string: a maintained parser for browsers and OSes, and the leading
 * product/version token for AWS SDKs and CLIs (what Elastic's user_agent processor yields for them).
 * CloudTrail repeats the same few agents endlessly, so results are cached.
 */
export function parseUserAgent(original: string): Record<string, unknown> {
  const hit = cache.get(original);
  if (hit) return copy(hit);
  const result = new UAParser(original).getResult();
  const ua: Record<string, unknown> = { original };
  if (result.browser.name) {
    ua.name = result.browser.name;
    if (result.browser.version) ua.version = result.browser.version;
  } else {
    const product = PRODUCT_TOKEN.exec(original);
    if (product) {
      ua.name = product[1];
      ua.version = product[2];
    }
  }
  if (result.os.name) {
    const os: Record<string, unknown> = { name: result.os.name };
    if (result.os.version) {
      os.version = result.os.version;
      os.full = `${result.os.name} ${result.os.version}`;
    }
    ua.os = os;
  }
  ua.device = { name: result.device.model ?? 'Other' };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(original, ua);
  return copy(ua);
}

/** Callers own what they get: a copy, cheap because the object is two levels deep. */
function copy(ua: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...ua };
  if (ua.os) out.os = { ...(ua.os as object) };
  if (ua.device) out.device = { ...(ua.device as object) };
  return out;
}
