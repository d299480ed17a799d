/** A small seeded PRNG (mulberry32): the same seed always yields the same samples. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += '0123456789abcdef'[this.int(0, 15)];
    return out;
  }

  upper(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[this.int(0, 31)];
    return out;
  }

  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${this.hex(3)}-${this.hex(12)}`;
  }

  publicIpv4(): string {
    // Documentation and well-known test ranges, never a real customer's address.
    const nets = ['203.0.113', '198.51.100', '192.0.2', '89.160.20', '81.2.69', '216.160.83', '175.16.199'];
    return `${this.pick(nets)}.${this.int(1, 254)}`;
  }

  privateIpv4(): string {
    return `10.${this.int(0, 3)}.${this.int(0, 255)}.${this.int(1, 254)}`;
  }

  ipv6(): string {
    return `2001:db8:${this.hex(4)}:${this.hex(4)}::${this.hex(3)}`;
  }
}
