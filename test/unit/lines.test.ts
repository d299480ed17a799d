import { describe, expect, it } from 'vitest';
import { encodeLines, joinLines, lineText, Utf8Blocks } from '../../src/lines.js';

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
    const line = blocks.encode(parts);
    expect(lineText(line)).toBe(parts.join(''));
    expect(line.end - line.start).toBe(Buffer.byteLength(parts.join(''), 'utf8'));
  });

  it('lays lines end to end in one block, which a request body then takes as it is, without a copy', () => {
    const blocks = new Utf8Blocks(4096);
    const lines = ['a\n', 'bé\n', 'c🚀\n'].map((text) => blocks.encode([text]));
    expect(new Set(lines.map((l) => l.block)).size).toBe(1);
    const body = joinLines(lines);
    expect(body.toString('utf8')).toBe('a\nbé\nc🚀\n');
    // A view of the block, not a copy: the bytes are the very ones the lines were encoded into.
    lines[1]!.block[lines[1]!.start] = 0x42;
    expect(body.toString('utf8')).toBe('a\nBé\nc🚀\n');
  });

  it('starts a new block when a line may not fit, leaves earlier lines as they were, and copies across blocks', () => {
    const blocks = new Utf8Blocks(1024);
    const texts = Array.from({ length: 40 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(20)}é"}\n`);
    const lines = texts.map((text) => blocks.encode([text]));
    expect(new Set(lines.map((l) => l.block)).size).toBeGreaterThan(1);
    expect(lines.map(lineText)).toEqual(texts);
    expect(joinLines(lines).toString('utf8')).toBe(texts.join(''));
    // Some of them, not end to end: copied together, in the order given.
    expect(joinLines([lines[3]!, lines[1]!]).toString('utf8')).toBe(texts[3]! + texts[1]!);
  });

  it('gives a line that could take over a quarter of a block a buffer of its own, of its exact size', () => {
    const blocks = new Utf8Blocks(1024);
    const small = blocks.encode(['small\n']);
    const large = blocks.encode(['é'.repeat(100), '\n']);
    expect(lineText(large)).toBe(`${'é'.repeat(100)}\n`);
    expect(large.block.length).toBe(201);
    expect(large.block).not.toBe(small.block);
    // The shared block goes on where it was.
    const next = blocks.encode(['next\n']);
    expect(next.block).toBe(small.block);
    expect(next.start).toBe(small.end);
  });

  it('joins one line or none', () => {
    const line = new Utf8Blocks().encode(['x']);
    expect(joinLines([line]).toString('utf8')).toBe('x');
    expect(joinLines([]).length).toBe(0);
  });
});
