import { describe, expect, it } from 'vitest';
import { AckPoller } from '../../../../src/sink/hec/acks.js';
import type { HecResponse, Lane } from '../../../../src/sink/hec/transport.js';
import { captureLogger } from './helpers.js';

/** A lane whose ack endpoint answers from `answer`; records the ids asked for in each poll. */
function fakeLane(answer: (ids: number[]) => HecResponse) {
  const polls: number[][] = [];
  const lane = {
    endpoint: { url: 'https://hec.example:8088' },
    pollAcks: async (ids: number[]) => {
      polls.push(ids);
      return answer(ids);
    },
  } as unknown as Lane;
  return { lane, polls };
}

const acks = (entries: Record<number, boolean>): HecResponse => ({
  status: 200,
  body: JSON.stringify({ acks: entries }),
});

describe('AckPoller', () => {
  it('an ackId handed out again supersedes the older waiter at once; the newer one keeps the id', async () => {
    let acked = false;
    const { lane } = fakeLane((ids) => acks(Object.fromEntries(ids.map((id) => [id, acked]))));
    const poller = new AckPoller(lane, 5, 10, captureLogger().log);
    const older = poller.wait(0, 60_000);
    const newer = poller.wait(0, 60_000);
    // The older batch's ack can no longer be told apart: it is to be sent again, not left to time out.
    await expect(older).resolves.toBe('superseded');
    acked = true;
    await expect(newer).resolves.toBe(true);
    poller.close();
  });

  it("an older waiter's time-out does not remove a newer waiter holding the same id", async () => {
    let acked = false;
    const { lane } = fakeLane((ids) => acks(Object.fromEntries(ids.map((id) => [id, acked]))));
    const poller = new AckPoller(lane, 5, 10, captureLogger().log);
    const older = poller.wait(0, 20);
    const newer = poller.wait(0, 60_000);
    await older;
    // Past the older waiter's time-out: the newer one must still be polled for and settled by its ack.
    await new Promise((r) => setTimeout(r, 40));
    acked = true;
    const settled = await Promise.race([
      newer,
      new Promise((r) => setTimeout(() => r('still waiting'), 1_000)),
    ]);
    expect(settled).toBe(true);
    poller.close();
  });

  it('an answer to a poll sent before the id was taken over does not settle the newer batch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let first = true;
    const lane = {
      endpoint: { url: 'https://hec.example:8088' },
      pollAcks: async (ids: number[]) => {
        if (first) {
          first = false;
          await gate;
          return acks(Object.fromEntries(ids.map((id) => [id, true])));
        }
        return acks(Object.fromEntries(ids.map((id) => [id, false])));
      },
    } as unknown as Lane;
    const poller = new AckPoller(lane, 5, 10, captureLogger().log);
    const older = poller.wait(0, 60_000);
    await new Promise((r) => setTimeout(r, 20));
    const newer = poller.wait(0, 150);
    release();
    await expect(older).resolves.toBe('superseded');
    // The `true` answered the poll about the older batch: the newer one times out (and is resent).
    await expect(newer).resolves.toBe(false);
    poller.close();
  });

  it('a 2xx without an acks map settles every waiter with HEC_FOREIGN_RESPONSE, naming the URL', async () => {
    const { lane } = fakeLane(() => ({
      status: 200,
      body: '<html>Sign in</html>',
      contentType: 'text/html',
    }));
    const poller = new AckPoller(lane, 5, 10, captureLogger().log);
    const result = await poller.wait(4, 60_000);
    expect(result).toMatchObject({ code: 'HEC_FOREIGN_RESPONSE' });
    expect((result as Error).message).toMatch(
      /https:\/\/hec\.example:8088.*HTTP 200, content-type text\/html/,
    );
    poller.close();
  });
});
