import { describe, expect, it } from 'vitest';
import { createEvaluator, parseRules, type Rule, RuleError } from '../../../src/detection/index.js';

const head = (id = '6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b') => `title: t
id: ${id}
description: d
author: a
level: low
`;

function loadError(text: string): RuleError {
  try {
    parseRules([{ file: 'cloudtrail/x.yml', text }]);
  } catch (err) {
    if (err instanceof RuleError) return err;
    throw err;
  }
  throw new Error('expected a RuleError');
}

describe('loader errors name file and line', () => {
  it('an unknown modifier points at its key', () => {
    const err = loadError(`${head()}logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName|sounds_like: StopLogging
  condition: sel
`);
    expect(err.message).toBe("cloudtrail/x.yml:9: detection: unsupported modifier 'sounds_like'");
    expect(err.details).toMatchObject({
      file: 'cloudtrail/x.yml',
      line: 9,
      field: 'sel.eventName|sounds_like',
    });
  });

  it('a condition naming a missing search', () => {
    expect(
      loadError(`${head()}logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: x}
  condition: sel and not filter
`).message,
    ).toMatch(/x\.yml:9: detection: condition: unknown search identifier 'filter'/);
  });

  it('a wrong log source and a missing level', () => {
    expect(
      loadError(`${head()}logsource: {product: aws, service: guardduty}
detection: {sel: {a: 1}, condition: sel}
`).message,
    ).toMatch(/x\.yml:6: logsource\.service/);
    expect(
      loadError(`title: t
id: 6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b
description: d
author: a
logsource: {product: aws, service: cloudtrail}
detection: {sel: {a: 1}, condition: sel}
`).message,
    ).toMatch(/^cloudtrail\/x\.yml:1: level:/);
  });

  it('a correlation referring to an unknown rule, and non-portable regexes', () => {
    expect(
      loadError(`${head()}correlation: {type: event_count, rules: [nope], group-by: [a], timespan: 5m, condition: {gte: 2}}
`).message,
    ).toMatch(/refers to unknown rule 'nope'/);
    expect(
      loadError(`${head()}logsource: {product: aws, service: cloudtrail}
detection: {sel: {a|re: 'x\\d+'}, condition: sel}
`).message,
    ).toMatch(/use character classes/);
  });
});

function rulesOf(text: string): Rule[] {
  return parseRules([{ file: 'r.yml', text }]);
}

describe('evaluator semantics', () => {
  const raw = { fields: 'raw' as const };
  it('modifiers: contains|all, startswith, cidr on bad addresses, gt, fieldref, 1 of, cased', () => {
    const rules = rulesOf(`${head()}logsource: {product: aws, service: cloudtrail}
detection:
  sel_a: {userAgent|contains|all: [boto, linux]}
  sel_b: {sourceIPAddress|cidr: 10.0.0.0/8, requestParameters.count|gt: 5}
  sel_c: {userIdentity.userName|fieldref: requestParameters.userName}
  filter: {eventName|cased: Ignore}
  condition: 1 of sel_* and not filter
`);
    const ev = createEvaluator(rules, raw);
    const fire = (doc: Record<string, unknown>) =>
      ev.evaluate({ eventSource: 's', eventName: 'x', ...doc }, 'id').length > 0;
    expect(fire({ userAgent: 'Boto3/1.0 Linux/6' })).toBe(true);
    expect(fire({ userAgent: 'Boto3/1.0 Darwin' })).toBe(false);
    expect(fire({ sourceIPAddress: '10.1.2.3', requestParameters: { count: '6' } })).toBe(true);
    expect(fire({ sourceIPAddress: '10.1.2.3', requestParameters: { count: 5 } })).toBe(false);
    expect(fire({ sourceIPAddress: '10.01.2.3', requestParameters: { count: 9 } })).toBe(false);
    expect(fire({ userIdentity: { userName: 'Bob' }, requestParameters: { userName: 'bob' } })).toBe(true);
    expect(
      fire({
        userIdentity: { userName: 'Bob' },
        requestParameters: { userName: 'bob' },
        eventName: 'Ignore',
      }),
    ).toBe(false);
    expect(
      fire({
        userIdentity: { userName: 'Bob' },
        requestParameters: { userName: 'bob' },
        eventName: 'ignore',
      }),
    ).toBe(true);
  });

  it('windows follow event time, not arrival, and one burst gives one alert with every event', () => {
    const rules = rulesOf(`${head()}name: base
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: Login}, condition: sel}
---
title: burst
id: 7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d
description: d
author: a
level: medium
correlation: {type: event_count, rules: [base], group-by: [sourceIPAddress], timespan: 1m, condition: {gte: 3}}
`);
    const ev = createEvaluator(rules, raw);
    const at = (s: number, ip = '1.2.3.4') => ({
      eventSource: 's',
      eventName: 'Login',
      sourceIPAddress: ip,
      eventTime: new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString(),
    });
    const out = [
      ...ev.evaluate(at(0), 'a'),
      ...ev.evaluate(at(70), 'b'), // 70 s later: the first has left the window
      ...ev.evaluate(at(80), 'c'),
      ...ev.evaluate(at(85, '9.9.9.9'), 'x'),
      ...ev.evaluate(at(90), 'd'), // third within a minute: the window opens an alert
      ...ev.evaluate(at(95), 'e'), // joins the open alert
    ];
    expect(out).toEqual([]);
    const flushed = ev.flush();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toMatchObject({
      source_event_ids: ['b', 'c', 'd', 'e'],
      group: { sourceIPAddress: '1.2.3.4' },
      value: 4,
    });
  });
});
