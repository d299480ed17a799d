import { describe, expect, it } from 'vitest';
import { encodeLines, joinViews, Utf8Blocks } from '../../src/lines.js';

const line = (text: string) => ({ line: text, bytes: Buffer.byteLength(text, 'utf8') });

describe('encodeLines', () => {
  it('writes the lines one after another as UTF-8, beyond Latin-1 and surrogate pairs included', () => {
    const lines = [line('{"user":"plain"}\n'), line('{"user":"Zoë 名前 🚀"}\n'), line('{"n":1}\n')];
    const body = encodeLines(lines);
    expect(body.toString('utf8')).toBe(lines.map((l) => l.line).join(''));
    expect(body.length).toBe(lines.reduce((n, l) => n + l.bytes, 0));
  });

  it('gives an empty body for no lines', () => {
    expect(encodeLines([]).length).toBe(0);
  });
});

describe('Utf8Blocks', () => {
  it('encodes the parts of a line one after another as UTF-8, beyond Latin-1 and surrogate pairs included', () => {
    const blocks = new Utf8Blocks(4096);
    const parts = ['{"event":', '{"user":"Zoë 名前 🚀"}', ',"fields":{}}', '\n'];
    const view = blocks.encode(parts);
    expect(view.toString('utf8')).toBe(parts.join(''));
    expect(view.length).toBe(Buffer.byteLength(parts.join(''), 'utf8'));
  });

  it('lays lines end to end in one block, which a request body then takes as it is, without a copy', () => {
    const blocks = new Utf8Blocks(4096);
    const views = ['a\n', 'bé\n', 'c🚀\n'].map((text) => blocks.encode([text]));
    const body = joinViews(views);
    expect(body.toString('utf8')).toBe('a\nbé\nc🚀\n');
    expect(body.buffer).toBe(views[0]!.buffer);
    expect(body.byteOffset).toBe(views[0]!.byteOffset);
    // A view of the block, not a copy: the bytes are the very ones the lines were encoded into.
    views[1]![0] = 0x42;
    expect(body.toString('utf8')).toBe('a\nBé\nc🚀\n');
  });

  it('starts a new block when a line may not fit, leaves earlier lines as they were, and copies across blocks', () => {
    const blocks = new Utf8Blocks(1024);
    const texts = Array.from({ length: 40 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(20)}é"}\n`);
    const views = texts.map((text) => blocks.encode([text]));
    expect(new Set(views.map((v) => v.buffer)).size).toBeGreaterThan(1);
    expect(views.map((v) => v.toString('utf8'))).toEqual(texts);
    const body = joinViews(views);
    expect(body.toString('utf8')).toBe(texts.join(''));
    // Some of them, not end to end: copied together, in the order given.
    expect(joinViews([views[3]!, views[1]!]).toString('utf8')).toBe(texts[3]! + texts[1]!);
  });

  it('gives a line that could take over a quarter of a block a buffer of its own, of its exact size', () => {
    const blocks = new Utf8Blocks(1024);
    const small = blocks.encode(['small\n']);
    const large = blocks.encode(['é'.repeat(100), '\n']);
    expect(large.toString('utf8')).toBe(`${'é'.repeat(100)}\n`);
    expect(large.buffer.byteLength).toBe(201);
    expect(large.buffer).not.toBe(small.buffer);
    // The shared block goes on where it was.
    const next = blocks.encode(['next\n']);
    expect(next.buffer).toBe(small.buffer);
    expect(next.byteOffset).toBe(small.byteOffset + small.length);
  });

  it('joins one view or none', () => {
    const view = new Utf8Blocks().encode(['x']);
    expect(joinViews([view])).toBe(view);
    expect(joinViews([]).length).toBe(0);
  });
});
