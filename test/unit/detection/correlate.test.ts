import { describe, expect, it } from 'vitest';
import { CorrelationState, MAX_ALERT_EVENT_IDS } from '../../../src/detection/correlate.js';
import { type Alert, createEvaluator, parseRules } from '../../../src/detection/index.js';
import type { CorrelationRule } from '../../../src/detection/model.js';

const BASE = Date.parse('2026-11-28T10:00:00Z');

/** A base rule over raw flow records and a correlation over it, as one rule file. */
function flowRules(correlation: string) {
  return parseRules([
    {
      file: 'flows.yml',
      text: `title: rejected
id: 00000000-0000-4000-8000-0000000000a1
name: rejected_base
description: d
author: a
level: low
logsource: {product: aws, service: vpcflow}
detection: {sel: {action: REJECT}, condition: sel}
---
title: correlated
id: 00000000-0000-4000-8000-0000000000a2
name: correlated
description: d
author: a
level: medium
correlation: ${correlation}
`,
    },
  ]);
}

const PORT_SCAN =
  '{type: value_count, rules: [rejected_base], group-by: [srcaddr], timespan: 5m, condition: {gte: 20, field: dstport}}';

let n = 0;
function flow(srcaddr: string, dstport: number, atMs: number, bytes = 40): [Record<string, unknown>, string] {
  n++;
  return [
    {
      srcaddr,
      dstaddr: '10.0.1.9',
      dstport,
      bytes,
      action: 'REJECT',
      start: Math.floor(atMs / 1000),
      end: Math.floor(atMs / 1000),
    },
    `f${n}`,
  ];
}

function run(
  evaluator: ReturnType<typeof createEvaluator>,
  events: [Record<string, unknown>, string][],
): Alert[] {
  const alerts: Alert[] = [];
  for (const [doc, id] of events) alerts.push(...evaluator.evaluate(doc, id, 'vpcflow'));
  return [...alerts, ...evaluator.flush()].filter((a) => a.rule.name === 'correlated');
}

describe('correlation windows', () => {
  it('a scan after a flood of one repeated port still fires, with the window held within maxWindowEvents', () => {
    const evaluator = createEvaluator(flowRules(PORT_SCAN), { fields: 'raw', maxWindowEvents: 100 });
    const events = [
      ...Array.from({ length: 5000 }, (_, i) => flow('198.51.100.7', 443, BASE + i * 10)),
      ...Array.from({ length: 20 }, (_, i) => flow('198.51.100.7', 1000 + i, BASE + 60_000 + i)),
    ];
    const alerts = run(evaluator, events);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ group: { srcaddr: '198.51.100.7' }, value: 21 });
    // The window kept the latest events: the 20 scanned ports, and repeats of 443 before them.
    expect(alerts[0]!.source_event_ids.slice(-20)).toEqual(events.slice(-20).map(([, id]) => id));
  });

  it('the budget takes the oldest events of the least recently fed groups first', () => {
    const evaluator = createEvaluator(flowRules(PORT_SCAN), { fields: 'raw', maxWindowEvents: 30 });
    // 19 ports from a quiet source, then a flood from others, then the quiet source's 20th port.
    const quiet = Array.from({ length: 19 }, (_, i) => flow('198.51.100.1', 2000 + i, BASE + i));
    const flood = Array.from({ length: 200 }, (_, i) =>
      flow(`198.51.100.${10 + (i % 5)}`, 80, BASE + 100 + i),
    );
    const alerts = run(evaluator, [...quiet, ...flood, flow('198.51.100.1', 3000, BASE + 1000)]);
    // The quiet group was fed least recently when the flood came, so it gave up its ports first.
    expect(alerts).toEqual([]);
    const roomy = createEvaluator(flowRules(PORT_SCAN), { fields: 'raw', maxWindowEvents: 10_000 });
    expect(run(roomy, [...quiet, ...flood, flow('198.51.100.1', 3000, BASE + 1000)])).toHaveLength(1);
  });

  it('an alert lists at most MAX_ALERT_EVENT_IDS events and counts them all', () => {
    const burst =
      '{type: event_count, rules: [rejected_base], group-by: [srcaddr], timespan: 5m, condition: {gte: 5}}';
    const evaluator = createEvaluator(flowRules(burst), { fields: 'raw' });
    const events = Array.from({ length: 3000 }, (_, i) => flow('203.0.113.9', 22, BASE + i * 10));
    const alerts = run(evaluator, events);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.value).toBe(3000);
    expect(alerts[0]!.source_event_ids).toEqual(events.slice(0, MAX_ALERT_EVENT_IDS).map(([, id]) => id));
  });

  it('places late events by time, and ignores one older than the whole window', () => {
    const sum =
      '{type: value_sum, rules: [rejected_base], group-by: [srcaddr], timespan: 5m, condition: {gte: 1000, field: bytes}}';
    const evaluator = createEvaluator(flowRules(sum), { fields: 'raw' });
    const late = flow('192.0.2.1', 22, BASE - 3_600_000, 5000);
    const events = [
      flow('192.0.2.1', 22, BASE + 4000, 300),
      flow('192.0.2.1', 22, BASE, 300),
      late,
      flow('192.0.2.1', 22, BASE + 2000, 300),
      flow('192.0.2.1', 22, BASE + 1000, 300),
    ];
    const alerts = run(evaluator, events);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.value).toBe(1200);
    expect(alerts[0]!.source_event_ids).not.toContain(late[1]);
    // Listed oldest first, whatever order they came in; stamped with the newest event's time.
    expect(alerts[0]!.source_event_ids).toEqual([events[1]![1], events[4]![1], events[3]![1], events[0]![1]]);
    expect(alerts[0]!['@timestamp']).toBe(new Date(BASE + 4000).toISOString());
  });

  it('events that leave the window stop counting: two halves a window apart never fire', () => {
    const evaluator = createEvaluator(flowRules(PORT_SCAN), { fields: 'raw' });
    const first = Array.from({ length: 15 }, (_, i) => flow('198.51.100.3', 100 + i, BASE + i * 1000));
    const second = Array.from({ length: 15 }, (_, i) =>
      flow('198.51.100.3', 200 + i, BASE + 400_000 + i * 1000),
    );
    expect(run(evaluator, [...first, ...second])).toEqual([]);
  });
});

describe('CorrelationState', () => {
  const burst =
    '{type: event_count, rules: [rejected_base], group-by: [srcaddr], timespan: 5m, condition: {gte: 3}}';
  const rule = flowRules(burst).find((r) => r.kind === 'correlation') as CorrelationRule;
  const alertOf = (_: CorrelationRule, ts: number, ids: string[], extra: Partial<Alert>) =>
    ({ '@timestamp': new Date(ts).toISOString(), source_event_ids: ids, ...extra }) as Alert;
  const state = (limits = { maxGroups: 1000, maxWindowEvents: 1000 }) =>
    new CorrelationState(rule, limits, alertOf);
  const event = (id: string, ts: number) => ({ ts, id, value: undefined });

  it('drops groups a whole timespan behind the newest event, so quiet sources do not pile up', () => {
    const s = state();
    for (let i = 0; i < 500; i++) s.feed({ srcaddr: `192.0.2.${i}` }, event(`e${i}`, BASE + i));
    expect(s.groups).toBe(500);
    expect(s.closeBefore(BASE + 300_000)).toEqual([]);
    expect(s.groups).toBe(500);
    s.feed({ srcaddr: '198.51.100.1' }, event('late', BASE + 300_250));
    s.closeBefore(BASE + 300_250);
    // Sources last seen more than five minutes before the newest event are gone; the rest stay.
    expect(s.groups).toBe(1 + 500 - 250);
  });

  it('makes room for a new group by dropping the least recently fed one without an open alert', () => {
    const s = state({ maxGroups: 3, maxWindowEvents: 1000 });
    for (const id of ['a1', 'a2', 'a3']) s.feed({ srcaddr: 'A' }, event(id, BASE)); // opens an alert
    for (let i = 0; i < 10; i++) s.feed({ srcaddr: `B${i}` }, event(`b${i}`, BASE + 1 + i));
    expect(s.groups).toBe(3);
    const alerts = s.closeBefore(BASE + 400_000);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      group: { srcaddr: 'A' },
      value: 3,
      source_event_ids: ['a1', 'a2', 'a3'],
    });
  });

  it('closes open alerts in the order their windows end', () => {
    const s = state();
    for (const id of ['x1', 'x2', 'x3']) s.feed({ srcaddr: 'X' }, event(id, BASE + 60_000));
    for (const id of ['y1', 'y2', 'y3']) s.feed({ srcaddr: 'Y' }, event(id, BASE));
    expect(s.closeBefore(BASE + 300_001).map((a) => a.group)).toEqual([{ srcaddr: 'Y' }]);
    expect(s.closeBefore(BASE + 360_001).map((a) => a.group)).toEqual([{ srcaddr: 'X' }]);
  });
});
