import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import {
  auditLogTarget,
  createActionStore,
  createAuditLog,
  JsonlActionStore,
  JsonlAuditLog,
  S3ActionStore,
  StdoutAuditLog,
} from '../../../src/respond/index.js';
import { FakeS3 } from './fake-s3.js';

const LAMBDA = { AWS_LAMBDA_FUNCTION_NAME: 'asc-webhook' };

describe('where audit lines go', () => {
  it('writes one JSON line per entry to stdout', () => {
    const lines: string[] = [];
    new StdoutAuditLog((l) => lines.push(l)).write({
      time: '2026-01-01T00:00:00.000Z',
      event: 'applied',
      action: 'waf-block-ip',
      target: '45.155.204.10/32',
      requester: { source: 'webhook:kibana' },
      dryRun: false,
      changes: ['add'],
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      event: 'applied',
      requester: { source: 'webhook:kibana' },
    });
  });

  it('defaults to stdout in Lambda and to the file elsewhere; a configured value wins', () => {
    expect(auditLogTarget({}, LAMBDA)).toBe('-');
    expect(auditLogTarget({}, {})).toBe('audit/actions.jsonl');
    expect(auditLogTarget({ auditLog: '/mnt/efs/audit.jsonl' }, LAMBDA)).toBe('/mnt/efs/audit.jsonl');
    expect(auditLogTarget({ auditLog: '-' }, {})).toBe('-');
    expect(createAuditLog('-')).toBeInstanceOf(StdoutAuditLog);
    expect(createAuditLog(`${tmpdir()}/asc-audit-test/audit.jsonl`)).toBeInstanceOf(JsonlAuditLog);
  });
});

describe('which action store', () => {
  const s3 = { s3: new FakeS3().client };

  it('uses S3 when stateS3 is set, in Lambda or not', () => {
    expect(createActionStore({ stateS3: 's3://b/p' }, s3, { env: LAMBDA })).toBeInstanceOf(S3ActionStore);
    expect(createActionStore({ stateS3: 's3://b/p' }, s3, { env: {} })).toBeInstanceOf(S3ActionStore);
  });

  it('falls back in Lambda to a container-local file, and says so', () => {
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    expect(createActionStore({}, s3, { env: LAMBDA, log })).toBeInstanceOf(JsonlActionStore);
    expect(log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ stateFile: expect.stringContaining(tmpdir()) }),
      expect.stringContaining('respond.stateS3 is not set'),
    );
  });

  it('uses the configured file otherwise', () => {
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    expect(
      createActionStore({ stateFile: `${tmpdir()}/asc-state-test.jsonl` }, s3, { env: LAMBDA, log }),
    ).toBeInstanceOf(JsonlActionStore);
    expect(log.warn).not.toHaveBeenCalled();
  });
});
