import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '../../../src/observe/index.js';
import { sqsSourceConfigSchema } from '../../../src/source/config.js';
import type { MessageOutcome } from '../../../src/source/message.js';
import { SqsConsumer } from '../../../src/source/sqs.js';

const QUEUE = 'http://sqs.local/123456789012/logs';

/**
 * An SQS client that hands out one message, then long-polls until the poll is aborted, and records
 * deletes and visibility changes. The consumer's stop semantics are what is under test, not SQS.
 */
function fakeSqs() {
  let handedOut = false;
  const deleted: string[] = [];
  const released: string[] = [];
  const client = {
    async send(command: unknown, options?: { abortSignal?: AbortSignal }) {
      if (command instanceof GetQueueAttributesCommand) return { Attributes: { RedrivePolicy: '{}' } };
      if (command instanceof ReceiveMessageCommand) {
        if (!handedOut) {
          handedOut = true;
          return { Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: '{}' }] };
        }
        return new Promise((_, reject) => {
          options?.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
          );
        });
      }
      if (command instanceof DeleteMessageBatchCommand) {
        const entries = command.input.Entries ?? [];
        deleted.push(...entries.map((e) => e.ReceiptHandle ?? ''));
        return { Successful: entries.map((e) => ({ Id: e.Id })) };
      }
      if (command instanceof ChangeMessageVisibilityBatchCommand) {
        for (const e of command.input.Entries ?? []) {
          if (e.VisibilityTimeout === 0) released.push(e.ReceiptHandle ?? '');
        }
        return {};
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  };
  return { sqs: client as unknown as SQSClient, deleted, released };
}

/** A handler whose one message stays in flight until the test settles it. */
function heldHandler() {
  let settle!: (outcome: MessageOutcome) => void;
  let signal: AbortSignal | undefined;
  let began!: () => void;
  const started = new Promise<void>((resolve) => {
    began = resolve;
  });
  const handle = (_body: string, given: AbortSignal): Promise<MessageOutcome> => {
    signal = given;
    began();
    return new Promise((resolve) => {
      settle = resolve;
    });
  };
  return {
    handle,
    started,
    settle: (outcome: MessageOutcome) => settle(outcome),
    get signal() {
      return signal;
    },
  };
}

function consumerWith(shutdownGraceSeconds: number) {
  const fake = fakeSqs();
  const held = heldHandler();
  const consumer = new SqsConsumer({
    sqs: fake.sqs,
    config: sqsSourceConfigSchema.parse({ queueUrls: [QUEUE], waitTimeSeconds: 1, shutdownGraceSeconds }),
    handle: held.handle,
    log: createLogger('silent'),
    metrics: createMetrics(),
  });
  return { consumer, fake, held };
}

describe('SqsConsumer.stop', () => {
  it('lets a message in flight finish within the grace period: its handler is not aborted, and it is deleted', async () => {
    const { consumer, fake, held } = consumerWith(30);
    await consumer.start();
    await held.started;
    const stopping = consumer.stop();
    // The stop has begun (receiving ended); the object being read must carry on.
    await new Promise((r) => setTimeout(r, 100));
    expect(held.signal?.aborted).toBe(false);
    held.settle({ done: true, objects: 1, records: 3 });
    await stopping;
    expect(held.signal?.aborted).toBe(false);
    expect(fake.deleted).toEqual(['r1']);
    expect(fake.released).toEqual([]);
  });

  it('when the grace period runs out, aborts the work still in flight and releases its message', async () => {
    const { consumer, fake, held } = consumerWith(1);
    await consumer.start();
    await held.started;
    await consumer.stop();
    expect(held.signal?.aborted).toBe(true);
    expect(fake.released).toEqual(['r1']);
    expect(fake.deleted).toEqual([]);
  });
});
