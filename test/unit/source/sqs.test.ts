import { Writable } from 'node:stream';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it, vi } from 'vitest';
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
    sqs: () => fake.sqs,
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

/** An SQS client whose queues always have as many messages as asked for, after a short poll. */
function fullQueues() {
  let n = 0;
  let asked = 0;
  let mostAsked = 0;
  const client = {
    async send(command: unknown, options?: { abortSignal?: AbortSignal }) {
      if (command instanceof GetQueueAttributesCommand) return { Attributes: { RedrivePolicy: '{}' } };
      if (command instanceof ReceiveMessageCommand) {
        const want = command.input.MaxNumberOfMessages ?? 1;
        asked += want;
        mostAsked = Math.max(mostAsked, asked);
        try {
          await new Promise<void>((resolve, reject) => {
            setTimeout(resolve, 20);
            options?.abortSignal?.addEventListener('abort', () =>
              reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
            );
          });
        } finally {
          asked -= want;
        }
        return {
          Messages: Array.from({ length: want }, () => {
            n++;
            return { MessageId: `m${n}`, ReceiptHandle: `r${n}`, Body: '{}' };
          }),
        };
      }
      return {};
    },
  };
  return {
    sqs: client as unknown as SQSClient,
    get mostAsked() {
      return mostAsked;
    },
  };
}

describe('SqsConsumer in-flight limit', () => {
  it('holds at most maxInFlightMessages across all queues, counting messages still being received', async () => {
    const fake = fullQueues();
    const settles: (() => void)[] = [];
    let handled = 0;
    let mostInFlight = 0;
    const consumer = new SqsConsumer({
      sqs: () => fake.sqs,
      config: sqsSourceConfigSchema.parse({
        queueUrls: [`${QUEUE}-1`, `${QUEUE}-2`, `${QUEUE}-3`],
        maxInFlightMessages: 4,
        waitTimeSeconds: 1,
        shutdownGraceSeconds: 0,
      }),
      handle: () => {
        handled++;
        mostInFlight = Math.max(mostInFlight, consumer.inFlight);
        return new Promise((resolve) => {
          settles.push(() => resolve({ done: false, objects: 0, records: 0 }));
        });
      },
      log: createLogger('silent'),
      metrics: createMetrics(),
    });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 150));
    expect(consumer.inFlight).toBe(4);
    expect(fake.mostAsked).toBeLessThanOrEqual(4);
    // Slots that come free are taken again, never beyond the limit.
    for (const settle of settles.splice(0, 2)) settle();
    await new Promise((r) => setTimeout(r, 150));
    expect(handled).toBe(6);
    expect(consumer.inFlight).toBe(4);
    expect(mostInFlight).toBeLessThanOrEqual(4);
    expect(fake.mostAsked).toBeLessThanOrEqual(4);
    await consumer.stop();
  });
});

describe('SqsConsumer receive back-off', () => {
  it('ends the back-off after a failed receive as soon as stop begins', async () => {
    // The longest first back-off: 500 ms × (0.5 + 0.999 / 2), just under 500 ms.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999);
    // No bound on elapsed time, which a loaded machine could break: a 400 ms timer set as the back-off
    // is announced, just before the back-off's own timer. Node fires timers in the order they fall due,
    // so a stop that waited out the back-off finishes after this timer, however slow the machine; a stop
    // that cuts it short finishes first (it needs no timer).
    let waitedOut!: Promise<'waited out the back-off'>;
    let asleep!: () => void;
    const sleeping = new Promise<void>((resolve) => {
      asleep = resolve;
    });
    const log = createLogger(
      'warn',
      new Writable({
        write(chunk, _enc, cb) {
          // Logged synchronously right before the loop goes to sleep.
          if (String(chunk).includes('receiving from SQS failed')) {
            waitedOut ??= new Promise((resolve) => setTimeout(() => resolve('waited out the back-off'), 400));
            asleep();
          }
          cb();
        },
      }),
    );
    let failures = 0;
    const sqs = {
      async send(command: unknown) {
        if (command instanceof GetQueueAttributesCommand) return { Attributes: { RedrivePolicy: '{}' } };
        if (command instanceof ReceiveMessageCommand) {
          failures++;
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        }
        return {};
      },
    } as unknown as SQSClient;
    const consumer = new SqsConsumer({
      sqs: () => sqs,
      config: sqsSourceConfigSchema.parse({
        queueUrls: [QUEUE],
        waitTimeSeconds: 1,
        shutdownGraceSeconds: 1,
      }),
      handle: async () => ({ done: true, objects: 0, records: 0 }),
      log,
      metrics: createMetrics(),
    });
    try {
      await consumer.start();
      await sleeping;
      const first = await Promise.race([consumer.stop().then(() => 'stopped' as const), waitedOut]);
      expect(first).toBe('stopped');
      expect(failures).toBe(1);
    } finally {
      random.mockRestore();
    }
  });
});
