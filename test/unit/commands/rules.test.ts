import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rulesInstallCommand } from '../../../src/commands/rules.js';
import { CIM_EVENTTYPES } from '../../../src/detection/cim-eventtypes.js';

const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('rules install --splunk', () => {
  it('a dry run lists the eventtypes and tags it would create beside the saved searches, naming each kind', async () => {
    const posts: string[] = [];
    vi.stubGlobal('fetch', async (input: URL | string, init: RequestInit = {}) => {
      if (init.method === 'POST') posts.push(String(input));
      return new Response('{"messages":[]}', { status: 404 });
    });
    const parts: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        parts.push(chunk.toString());
        done();
      },
    });
    await rulesInstallCommand({ rules: rulesDir, splunk: 'https://splunk.invalid:8089', dryRun: true }, out);
    const lines = parts.join('').split('\n');
    const [first] = CIM_EVENTTYPES;
    expect(lines).toContain(`splunk would be created: eventtype ${first!.name}`);
    expect(lines).toContain(`splunk would be created: tags eventtype=${first!.name}`);
    expect(lines.at(-2)).toMatch(
      /^splunk: \d+ created, 0 updated, 0 unchanged \(dry run, nothing written\)$/,
    );
    expect(posts).toEqual([]);
  });
});
