import { describe, expect, it } from 'vitest';
import { SearchTransportError } from '../../../../src/sink/search/index.js';
import { backoffDelay, classifyItem, classifyRequest } from '../../../../src/sink/search/outcome.js';

describe('classifyItem', () => {
  it.each([
    [{ status: 201 }, 'create', 'indexed'],
    [{ status: 200 }, 'index', 'indexed'],
    [{ status: 409, error: { type: 'version_conflict_engine_exception' } }, 'create', 'duplicate'],
    [{ status: 409, error: { type: 'version_conflict_engine_exception' } }, 'index', 'reject'],
    [{ status: 429, error: { type: 'es_rejected_execution_exception' } }, 'create', 'retry'],
    [{ status: 500, error: { type: 'exception' } }, 'create', 'retry'],
    [{ status: 503, error: { type: 'unavailable_shards_exception' } }, 'create', 'retry'],
    [
      { status: 403, error: { type: 'cluster_block_exception', reason: 'index read-only' } },
      'create',
      'retry',
    ],
    [{ status: 400, error: { type: 'mapper_parsing_exception' } }, 'create', 'reject'],
    [{ status: 400, error: { type: 'document_parsing_exception' } }, 'create', 'reject'],
    [{ status: 400, error: { type: 'illegal_argument_exception' } }, 'create', 'reject'],
    [{ status: 400, error: { type: 'index_closed_exception' } }, 'create', 'fail'],
    [{ status: 404, error: { type: 'index_not_found_exception' } }, 'create', 'fail'],
    [{ status: 403, error: { type: 'security_exception' } }, 'create', 'fail'],
    [undefined, 'create', 'fail'],
  ] as const)('%j with op %s → %s', (item, op, kind) => {
    expect(classifyItem(item, op).kind).toBe(kind);
  });

  it("keeps the server's reason and its cause for the dead letter", () => {
    const outcome = classifyItem(
      {
        status: 400,
        error: {
          type: 'mapper_parsing_exception',
          reason: 'failed to parse field [source.port] of type [long]',
          caused_by: { type: 'number_format_exception', reason: 'For input string: "http"' },
        },
      },
      'create',
    );
    expect(outcome).toEqual({
      kind: 'reject',
      reason:
        'HTTP 400: mapper_parsing_exception: failed to parse field [source.port] of type [long] (caused by number_format_exception: For input string: "http")',
    });
  });
});

describe('classifyRequest', () => {
  it('hands back items when the response covers every document', () => {
    expect(classifyRequest({ status: 200, items: [{ status: 201 }] }, 1).kind).toBe('items');
  });
  it('fails a 200 whose items do not match the request', () => {
    expect(classifyRequest({ status: 200, items: [] }, 2)).toMatchObject({
      kind: 'fail',
      code: 'SEARCH_BAD_RESPONSE',
    });
  });
  it.each([
    [429, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [408, 'retry'],
    [413, 'split'],
    [401, 'fail'],
    [403, 'fail'],
    [400, 'fail'],
  ] as const)('HTTP %i → %s', (status, kind) => {
    expect(classifyRequest({ status, error: { error: { type: 't', reason: 'r' } } }, 1).kind).toBe(kind);
  });
  it('retries a connection-level failure', () => {
    expect(classifyRequest(new SearchTransportError('socket hang up'), 3)).toEqual({
      kind: 'retry',
      reason: 'socket hang up',
    });
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, stays within [step/2, step] and never exceeds the cap', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(400);
    expect(backoffDelay(3, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(40, 100, 10_000, () => 1)).toBe(10_000);
  });
});
