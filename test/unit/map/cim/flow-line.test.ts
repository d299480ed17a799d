import { describe, expect, it } from 'vitest';
import { type FlowLineOrder, toCim } from '../../../../src/map/cim/index.js';
import { flowFieldsForVersion, generateFlowLines, SeededRandom } from '../../../../src/samples/index.js';
import type { RawRecord } from '../../../../src/types.js';
import { decodeAll, records } from '../../decode/helpers.js';

/**
 * The positions the Splunk Add-on for AWS reads a flow line by: its v2 extraction takes the first 14
 * tokens in AWS's default order, its v5 one 29 tokens in AWS's "all fields" order (the v2 order first).
 */
const V5_ALL_FIELDS = flowFieldsForVersion(5);
const V2_WIDTH = 14;

/** Where the add-on's positional reading of the sent line disagrees with the record's own fields. */
function addonMisreads(record: RawRecord, sent: string): string[] {
  if (record.logType !== 'vpcflow') throw new Error('a flow record was expected');
  const tokens = sent.split(' ');
  const width = tokens.length >= V5_ALL_FIELDS.length ? V5_ALL_FIELDS.length : V2_WIDTH;
  const wrong: string[] = [];
  for (let i = 0; i < width; i++) {
    const name = V5_ALL_FIELDS[i] as string;
    const expected = record.fields[name] ?? '-';
    if (tokens[i] !== expected) wrong.push(`${name}: read "${tokens[i]}", the record has "${expected}"`);
  }
  return wrong;
}

async function flowRecords(fields: readonly string[], header = true): Promise<RawRecord[]> {
  const text = `${generateFlowLines({ seed: 7, count: 40, version: 5, fields, header }).join('\n')}\n`;
  return records(await decodeAll(text, { logType: 'vpcflow', chunkSize: 4096 }));
}

function sentLine(record: RawRecord, flowLineOrder?: FlowLineOrder): string {
  const { event } = toCim(record, flowLineOrder ? { flowLineOrder } : {});
  if (typeof event !== 'string') throw new Error('a flow event is its line');
  return event;
}

/** The values of a line, absent ones left out, in a canonical order: what a rewrite must keep. */
function valuesOf(line: string): string[] {
  return line
    .split(' ')
    .filter((t) => t !== '-')
    .sort();
}

const shuffled = (() => {
  const r = new SeededRandom(11);
  const names = [...V5_ALL_FIELDS];
  for (let i = names.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [names[i], names[j]] = [names[j] as string, names[i] as string];
  }
  return names;
})();

const layouts: { name: string; fields: readonly string[]; header?: boolean; rewritten: boolean }[] = [
  { name: "AWS's default (v2)", fields: flowFieldsForVersion(2), rewritten: false },
  { name: 'v5 all fields', fields: V5_ALL_FIELDS, rewritten: false },
  { name: 'v8 all fields (v5 order first)', fields: flowFieldsForVersion(8), rewritten: false },
  { name: 'all v5 fields shuffled', fields: shuffled, rewritten: true },
  {
    name: 'a short custom format',
    fields: [
      'srcaddr',
      'dstaddr',
      'srcport',
      'dstport',
      'protocol',
      'action',
      'flow-direction',
      'pkt-srcaddr',
    ],
    rewritten: true,
  },
  {
    name: "Elastic's header-less 21-field layout",
    fields:
      'version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status'.split(
        ' ',
      ),
    header: false,
    rewritten: true,
  },
];

describe('flow lines sent to Splunk', () => {
  for (const layout of layouts) {
    it(`${layout.name}: the add-on reads every position right, and no value is lost`, async () => {
      const recs = await flowRecords(layout.fields, layout.header);
      expect(recs.length).toBe(40);
      for (const record of recs) {
        if (record.logType !== 'vpcflow') throw new Error('flow');
        const sent = sentLine(record);
        expect(addonMisreads(record, sent), sent).toEqual([]);
        expect(valuesOf(sent)).toEqual(valuesOf(record.line));
        if (layout.rewritten) expect(sent).not.toBe(record.line);
        else expect(sent).toBe(record.line);
      }
    });
  }

  it('as-written sends the line unchanged, which the add-on misreads in a custom order', async () => {
    const [record] = await flowRecords(shuffled);
    if (record?.logType !== 'vpcflow') throw new Error('flow');
    const sent = sentLine(record, 'as-written');
    expect(sent).toBe(record.line);
    expect(addonMisreads(record, sent).length).toBeGreaterThan(0);
  });

  it('puts a field AWS does not document after AWS order, keeping its value', async () => {
    const text = 'version srcaddr x-new-field dstaddr action\n5 10.0.0.1 hello 10.0.0.2 ACCEPT\n';
    const [record] = records(await decodeAll(text, { logType: 'vpcflow' }));
    if (record?.logType !== 'vpcflow') throw new Error('flow');
    const tokens = sentLine(record).split(' ');
    expect(tokens).toHaveLength(V2_WIDTH + 1);
    expect(tokens.slice(0, 5)).toEqual(['5', '-', '-', '10.0.0.1', '10.0.0.2']);
    expect(tokens[12]).toBe('ACCEPT');
    expect(tokens[V2_WIDTH]).toBe('hello');
  });
});
