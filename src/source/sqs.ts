import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type GetQueueAttributesCommandOutput,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import type { AwsConfig } from '../config/index.js';
import { ConnectorError, errorMessage } from '../errors.js';
import { awsHttpOptions } from '../network/index.js';
import type { Logger, Metrics } from '../observe/index.js';
import { withTimeout } from '../timeout.js';
import type { SqsSourceConfig } from './config.js';
import type { MessageOutcome } from './message.js';
import { RegionalClients, regionOfQueueUrl } from './regions.js';

export type MessageHandler = (body: string, signal: AbortSignal) => Promise<MessageOutcome>;

interface InFlight {
  queueUrl: string;
  receiptHandle: string;
  messageId: string;
  extendedAt: number;
}

/**
 * Long-polls one or more queues and hands each message to `handle`. A message is deleted only when its
 * handler reports every record delivered; otherwise it is left to reappear after its visibility timeout
 * (and, after the queue's maxReceiveCount, to move to its DLQ). While work goes on, visibility is
 * extended at half-time, batched per queue.
 */
export class SqsConsumer {
  /** The client for a queue: one per region, since each request is signed for its queue's region. */
  readonly #sqs: (queueUrl: string) => SQSClient;
  readonly #config: SqsSourceConfig;
  readonly #handle: MessageHandler;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #inFlight = new Map<string, InFlight>();
  /** Aborted when stop begins: no new receives (a long poll in progress is cut short). */
  readonly #stopReceiving = new AbortController();
  /**
   * Aborted only when the grace period runs out: handlers hold this one, so an object still being read
   * at a stop (an ECS deploy's SIGTERM) finishes within the grace period instead of failing at once and
   * being read, and partly sent, again by the next consumer.
   */
  readonly #abandon = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #work = new Set<Promise<void>>();
  readonly #deletes = new Map<string, { Id: string; ReceiptHandle: string }[]>();
  #deleteTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Receive loops waiting for a free in-flight slot. */
  #waiting: (() => void)[] = [];
  /**
   * Slots promised to receive calls still in progress. Each loop long-polls on its own, so without this
   * every queue's loop would see the same free slots and together hold queues × free messages.
   */
  #reserved = 0;
  /** Receive loops not inside a receive call: they share what is free. */
  #idleLoops = 0;

  constructor(deps: {
    sqs: (queueUrl: string) => SQSClient;
    config: SqsSourceConfig;
    handle: MessageHandler;
    log: Logger;
    metrics: Metrics;
  }) {
    this.#sqs = deps.sqs;
    this.#config = deps.config;
    this.#handle = deps.handle;
    this.#log = deps.log;
    this.#metrics = deps.metrics;
    // Every object in flight listens on this one signal; Node's default of 10 listeners would warn of a leak.
    setMaxListeners(0, this.#abandon.signal);
  }

  /** Checks each queue (warns when it has no redrive policy), then starts one receive loop per queue. */
  async start(): Promise<void> {
    for (const queueUrl of this.#config.queueUrls) await this.#checkQueue(queueUrl);
    const beat = Math.max(1000, (this.#config.visibilityTimeout * 1000) / 4);
    this.#heartbeat = setInterval(() => void this.#extendVisibility(), beat);
    for (const queueUrl of this.#config.queueUrls) this.#loops.push(this.#receiveLoop(queueUrl));
  }

  /**
   * Stops receiving, lets in-flight work finish within the grace period, then releases what is left
   * (visibility 0) so another consumer takes it at once instead of after the timeout.
   */
  async stop(): Promise<void> {
    this.#stopReceiving.abort();
    this.#wakeAll();
    await Promise.allSettled(this.#loops);
    const finished = await withTimeout(
      Promise.allSettled([...this.#work]).then(() => 'done' as const),
      this.#config.shutdownGraceSeconds * 1000,
      'timeout' as const,
      { unref: true },
    );
    if (finished === 'timeout') {
      this.#abandon.abort();
      await this.#release([...this.#inFlight.values()]);
    }
    clearInterval(this.#heartbeat);
    await this.#flushDeletes();
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  async #checkQueue(queueUrl: string): Promise<void> {
    let res: GetQueueAttributesCommandOutput;
    try {
      res = await this.#sqs(queueUrl).send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'],
        }),
      );
    } catch (err) {
      // Named for the queue: with several configured, the SDK's message alone does not say which one.
      throw new ConnectorError('SQS_QUEUE_UNREACHABLE', `queue ${queueUrl}: ${errorMessage(err)}`, {
        cause: err,
        details: { queueUrl },
      });
    }
    if (!res.Attributes?.RedrivePolicy) {
      this.#log.warn(
        { queueUrl },
        'queue has no redrive policy: a message that always fails will be retried forever; give it a dead-letter queue',
      );
    }
  }

  async #receiveLoop(queueUrl: string): Promise<void> {
    let backoffMs = 0;
    this.#idleLoops++;
    while (!this.#stopReceiving.signal.aborted) {
      const free = this.#config.maxInFlightMessages - this.#inFlight.size - this.#reserved;
      if (free <= 0) {
        await new Promise<void>((r) => this.#waiting.push(r));
        continue;
      }
      // An even share for each idle loop, so that one queue's empty long poll does not hold every free
      // slot for its whole wait while another queue has messages.
      const take = Math.min(10, Math.ceil(free / Math.max(1, this.#idleLoops)));
      this.#reserved += take;
      this.#idleLoops--;
      let messages: Message[] = [];
      let failure: unknown;
      try {
        const res = await this.#sqs(queueUrl).send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: take,
            WaitTimeSeconds: this.#config.waitTimeSeconds,
            VisibilityTimeout: this.#config.visibilityTimeout,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
          { abortSignal: this.#stopReceiving.signal },
        );
        messages = res.Messages ?? [];
      } catch (err) {
        failure = err ?? new Error('receive failed');
      } finally {
        // The reservation turns into in-flight entries (dispatch, synchronously) or is given back.
        this.#reserved -= take;
        this.#idleLoops++;
      }
      for (const message of messages) this.#dispatch(queueUrl, message);
      if (messages.length < take) this.#wakeAll();
      if (failure === undefined) {
        backoffMs = 0;
        continue;
      }
      if (this.#stopReceiving.signal.aborted) break;
      backoffMs = Math.min(30_000, backoffMs ? backoffMs * 2 : 500);
      this.#log.warn(
        { queueUrl, err: errorMessage(failure), retryInMs: backoffMs },
        'receiving from SQS failed',
      );
      // Cut short when stop begins: a stop must not wait out a back-off of up to 30 s before its grace.
      await sleep(backoffMs * (0.5 + Math.random() / 2), undefined, {
        signal: this.#stopReceiving.signal,
      }).catch(() => undefined);
    }
    this.#idleLoops--;
  }

  #dispatch(queueUrl: string, message: Message): void {
    if (!message.ReceiptHandle || !message.MessageId) return;
    const entry: InFlight = {
      queueUrl,
      receiptHandle: message.ReceiptHandle,
      messageId: message.MessageId,
      extendedAt: Date.now(),
    };
    this.#inFlight.set(message.MessageId, entry);
    this.#metrics.messagesReceived.inc({ queue: queueName(queueUrl) });
    this.#metrics.inFlightMessages.set(this.#inFlight.size);
    const work = this.#handle(message.Body ?? '', this.#abandon.signal)
      .then(
        (outcome) => {
          if (outcome.done) this.#queueDelete(entry);
          else
            this.#metrics.messagesReturned.inc({
              queue: queueName(queueUrl),
              reason: outcome.reason ?? 'failed',
            });
        },
        (err: unknown) => {
          this.#metrics.messagesReturned.inc({ queue: queueName(queueUrl), reason: 'error' });
          this.#log.error({ messageId: entry.messageId, err: errorMessage(err) }, 'message handling failed');
        },
      )
      .finally(() => {
        this.#inFlight.delete(entry.messageId);
        this.#metrics.inFlightMessages.set(this.#inFlight.size);
        this.#work.delete(work);
        this.#wakeAll();
      });
    this.#work.add(work);
  }

  #wakeAll(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }

  #queueDelete(entry: InFlight): void {
    const batch = this.#deletes.get(entry.queueUrl) ?? [];
    batch.push({ Id: String(batch.length), ReceiptHandle: entry.receiptHandle });
    this.#deletes.set(entry.queueUrl, batch);
    if (batch.length >= 10) void this.#flushDeletes();
    else this.#deleteTimer ??= setTimeout(() => void this.#flushDeletes(), 50);
  }

  async #flushDeletes(): Promise<void> {
    clearTimeout(this.#deleteTimer);
    this.#deleteTimer = undefined;
    const all = [...this.#deletes.entries()];
    this.#deletes.clear();
    await Promise.all(
      all.flatMap(([queueUrl, entries]) =>
        chunks(entries, 10).map(async (chunk) => {
          const batch = chunk.map((e, i) => ({ ...e, Id: String(i) }));
          try {
            const res = await this.#sqs(queueUrl).send(
              new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }),
            );
            this.#metrics.messagesDeleted.inc({ queue: queueName(queueUrl) }, res.Successful?.length ?? 0);
            for (const f of res.Failed ?? []) {
              // The message will come back; its records are re-sent under the same ids, so this costs time, not data.
              this.#log.warn(
                { queueUrl, code: f.Code, message: f.Message },
                'deleting a delivered message failed',
              );
            }
          } catch (err) {
            this.#log.warn({ queueUrl, err: errorMessage(err) }, 'deleting delivered messages failed');
          }
        }),
      ),
    );
  }

  async #extendVisibility(): Promise<void> {
    const due = Date.now() - (this.#config.visibilityTimeout * 1000) / 2;
    const stale = [...this.#inFlight.values()].filter((m) => m.extendedAt <= due);
    await this.#changeVisibility(stale, this.#config.visibilityTimeout);
  }

  async #release(entries: InFlight[]): Promise<void> {
    await this.#changeVisibility(entries, 0);
  }

  async #changeVisibility(entries: InFlight[], seconds: number): Promise<void> {
    const byQueue = new Map<string, InFlight[]>();
    for (const e of entries) byQueue.set(e.queueUrl, [...(byQueue.get(e.queueUrl) ?? []), e]);
    await Promise.all(
      [...byQueue.entries()].flatMap(([queueUrl, list]) =>
        chunks(list, 10).map(async (chunk) => {
          try {
            await this.#sqs(queueUrl).send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: queueUrl,
                Entries: chunk.map((e, i) => ({
                  Id: String(i),
                  ReceiptHandle: e.receiptHandle,
                  VisibilityTimeout: seconds,
                })),
              }),
            );
            const now = Date.now();
            for (const e of chunk) e.extendedAt = now;
          } catch (err) {
            this.#log.warn({ queueUrl, err: errorMessage(err) }, 'changing message visibility failed');
          }
        }),
      ),
    );
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function queueName(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

/**
 * SQS clients by the region of each queue URL (`aws.region` for a URL that names none), with the source
 * role's credentials when one is configured.
 */
export function sqsClients(
  aws: AwsConfig,
  credentials?: SQSClientConfig['credentials'],
): { forQueue(queueUrl: string): SQSClient; destroy(): void } {
  const clients = new RegionalClients(
    aws.region,
    (region) =>
      new SQSClient({
        region,
        ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        ...awsHttpOptions(),
      }),
  );
  return {
    forQueue: (queueUrl) => clients.get(regionOfQueueUrl(queueUrl)),
    destroy: () => clients.destroy(),
  };
}
