import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse as parseYaml } from 'yaml';

/**
 * ECS `user_agent.*` the way Elasticsearch's `user_agent` ingest processor fills it, which is what Elastic's
 * AWS integration stores for CloudTrail's `userAgent`. The processor runs the ua-parser rules (uap-core's
 * `regexes.yaml`, shipped here by the `uap-core` package) and then:
 * - `name`: the browser/client family, "Other" when no rule matches (`signin.amazonaws.com`, service names);
 * - `version`: major.minor.patch.build, as many leading parts as are present (an empty part ends it, so
 *   `Firefox/24.0` gives "24.0", not "24.0.");
 * - `os`: only when an OS rule matches: `name`, and `version` / `full` ("name version") only with a major;
 * - `device.name`: the device family, "Other" when no rule matches.
 * SDK and CLI agents are no special case: uap-core's own rules give `aws-cli` / `Boto3` / `aws-sdk-go` and their
 * version, and Elastic's golden outputs agree (older aws-cli agents carry `botocore`, whose "bot" makes the
 * device "Spider" there too).
 *
 * The rules (~1,200 regexes) are read and compiled on first use, not at import: parsing the 200 kB YAML costs
 * a few hundred milliseconds on a small machine. CloudTrail repeats the same few agents endlessly, so results
 * are cached per agent string.
 */

interface Rule {
  re: RegExp;
  /** family / os / device replacement; `$1`..`$9` refer to the regex groups. */
  name?: string | undefined;
  /** major, minor, patch, build replacements (device rules have none). */
  versions: (string | undefined)[];
}

interface Rules {
  ua: Rule[];
  os: Rule[];
  device: Rule[];
}

interface Match {
  name: string;
  version?: string | undefined;
}

const cache = new Map<string, Record<string, unknown>>();
const CACHE_LIMIT = 10_000;
/**
 * Characters of an agent the rules read. Anyone calling an AWS API chooses its user agent, and some rules
 * take tens of milliseconds on a crafted string of several kB: each distinct one would cost that once.
 * Real agents (browsers, SDKs with their execution environment) stay well within it.
 */
const MAX_PARSED_LENGTH = 1024;
let rules: Rules | undefined;

/** Reads and compiles uap-core's rules once; returns how many there are. Safe to call early to warm up. */
export function loadUserAgentRules(): number {
  const r = getRules();
  return r.ua.length + r.os.length + r.device.length;
}

export function parseUserAgent(original: string): Record<string, unknown> {
  const hit = cache.get(original);
  if (hit) return copy(hit);
  const r = getRules();
  const ua: Record<string, unknown> = { original };
  const agent = original.length > MAX_PARSED_LENGTH ? original.slice(0, MAX_PARSED_LENGTH) : original;
  const client = firstMatch(r.ua, agent, false);
  ua.name = client?.name ?? 'Other';
  if (client?.version) ua.version = client.version;
  const os = firstMatch(r.os, agent, false);
  if (os) {
    ua.os = os.version
      ? { name: os.name, version: os.version, full: `${os.name} ${os.version}` }
      : { name: os.name };
  }
  ua.device = { name: firstMatch(r.device, agent, true)?.name ?? 'Other' };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(original, ua);
  return copy(ua);
}

function getRules(): Rules {
  if (!rules) {
    const file = createRequire(import.meta.url).resolve('uap-core/regexes.yaml');
    const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
    rules = {
      ua: compile(doc.user_agent_parsers, 'family_replacement', [
        'v1_replacement',
        'v2_replacement',
        'v3_replacement',
        'v4_replacement',
      ]),
      os: compile(doc.os_parsers, 'os_replacement', [
        'os_v1_replacement',
        'os_v2_replacement',
        'os_v3_replacement',
        'os_v4_replacement',
      ]),
      device: compile(doc.device_parsers, 'device_replacement', []),
    };
  }
  return rules;
}

function compile(list: unknown, nameKey: string, versionKeys: string[]): Rule[] {
  if (!Array.isArray(list)) throw new Error(`uap-core regexes.yaml: expected a list of rules for ${nameKey}`);
  return list.map((entry: Record<string, unknown>) => ({
    // The only flag uap-core uses is "i"; everything else is case-sensitive.
    re: new RegExp(String(entry.regex), entry.regex_flag === 'i' ? 'i' : ''),
    name: optionalString(entry[nameKey]),
    versions: versionKeys.map((k) => optionalString(entry[k])),
  }));
}

/**
 * The first rule whose regex matches and yields a name. Without a replacement, group 1 is the name and groups
 * 2..5 the version parts; a replacement overrides its field and may quote groups as `$1`..`$9`.
 */
function firstMatch(list: Rule[], agent: string, trimName: boolean): Match | undefined {
  for (const rule of list) {
    const m = rule.re.exec(agent);
    if (!m) continue;
    let name = rule.name !== undefined ? substitute(rule.name, m) : m[1];
    if (trimName && name) name = name.trim();
    if (!name) continue;
    const parts: string[] = [];
    for (let i = 0; i < rule.versions.length; i++) {
      const replacement = rule.versions[i];
      const part = replacement !== undefined ? substitute(replacement, m) : m[i + 2];
      if (!part) break;
      parts.push(part);
    }
    return { name, version: parts.length > 0 ? parts.join('.') : undefined };
  }
  return undefined;
}

function substitute(template: string, m: RegExpExecArray): string {
  return template.replace(/\$([1-9])/g, (_, n: string) => m[Number(n)] ?? '').trim();
}

function optionalString(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

/** Callers own what they get: a copy, cheap because the object is two levels deep. */
function copy(ua: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...ua };
  if (ua.os) out.os = { ...(ua.os as object) };
  if (ua.device) out.device = { ...(ua.device as object) };
  return out;
}
