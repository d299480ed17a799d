import { GetIPSetCommand, UpdateIPSetCommand, type WAFV2Client } from '@aws-sdk/client-wafv2';

/** An in-memory WAFv2 IP set with real lock-token semantics, for unit tests of the read–modify–write loop. */
export class FakeWaf {
  addresses: string[] = [];
  lockToken = 'token-0';
  updates = 0;
  failNext = 0;
  #version = 0;

  get client(): WAFV2Client {
    return { send: (command: unknown) => this.#send(command) } as unknown as WAFV2Client;
  }

  /** Another writer changes the set: the token we handed out goes stale. */
  bump(): void {
    this.#version += 1;
    this.lockToken = `token-${this.#version}`;
  }

  async #send(command: unknown): Promise<unknown> {
    const meta = { $metadata: { requestId: `req-${this.updates + 1}` } };
    if (command instanceof GetIPSetCommand) {
      return {
        ...meta,
        IPSet: { Addresses: [...this.addresses], Description: 'blocked' },
        LockToken: this.lockToken,
      };
    }
    if (command instanceof UpdateIPSetCommand) {
      if (this.failNext > 0) {
        this.failNext -= 1;
        throw Object.assign(new Error('internal'), {
          name: 'WAFInternalErrorException',
          $metadata: { requestId: 'req-failed' },
        });
      }
      if (command.input.LockToken !== this.lockToken) {
        throw Object.assign(new Error('stale token'), { name: 'WAFOptimisticLockException' });
      }
      this.updates += 1;
      this.addresses = [...(command.input.Addresses ?? [])];
      this.bump();
      return { ...meta, NextLockToken: this.lockToken };
    }
    throw new Error(`unexpected command ${(command as object).constructor.name}`);
  }
}
