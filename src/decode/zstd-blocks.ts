/**
 * Finds where the blocks of a zstd stream end, so that the decoder can be handed the input one block at a
 * time. The decoder turns all the complete blocks it is given into output at once, and a block regenerates
 * up to 128 KiB from as little as 4 bytes (an RLE block) or a few dozen (a long match): 64 MiB of repeated
 * JSON lines compress to 6 KiB, so no fixed input piece bounds the output. A block does.
 *
 * Only the framing is read here (frame and block headers, RFC 8878 §3.1); the decoder checks everything
 * else. On bytes that are not a zstd stream the cutter gives up and hands on fixed pieces; the decoder
 * then reports the corruption.
 */

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames have magic numbers 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50;
const SKIPPABLE_MASK = 0xfffffff0;
const DICTIONARY_ID_BYTES = [0, 1, 2, 4] as const;
const CONTENT_SIZE_BYTES = [0, 2, 4, 8] as const;
/** Block types 0 (raw) and 2 (compressed) carry as many bytes as their size says; RLE carries one. */
const RLE_BLOCK = 1;
const RESERVED_BLOCK = 3;

/** The field of the framing that the next bytes belong to. */
type Field =
  | 'magic'
  | 'skippable-size'
  | 'frame-header-descriptor'
  | 'block-header'
  | 'checksum'
  /** Not a zstd stream as far as the framing goes: fixed pieces from here on. */
  | 'lost';

const FIELD_BYTES: Record<Exclude<Field, 'lost'>, number> = {
  magic: 4,
  'skippable-size': 4,
  'frame-header-descriptor': 1,
  'block-header': 3,
  checksum: 4,
};

export class ZstdBlockCutter {
  private field: Field = 'magic';
  /** Bytes of the current field gathered so far (a field may be split across chunks). */
  private readonly gathered = new Uint8Array(4);
  private have = 0;
  /** Bytes to pass over before the next field (rest of a frame header, block content, skippable data). */
  private skip = 0;
  /** The bytes being skipped are a block's content: a piece ends where they end. */
  private inBlock = false;
  private lastBlock = false;
  private checksum = false;

  /** @param lostPiece the size of the pieces handed on once the framing cannot be followed */
  constructor(private readonly lostPiece: number) {}

  /**
   * Where the piece of `chunk` that starts at `from` ends (exclusive): just after the next block that
   * ends in the chunk, or at the chunk's end.
   */
  pieceEnd(chunk: Uint8Array, from: number): number {
    let at = from;
    while (at < chunk.length) {
      if (this.field === 'lost') return Math.min(chunk.length, at + this.lostPiece);
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        at += n;
        this.skip -= n;
        if (this.skip > 0) return at;
      } else {
        this.gathered[this.have++] = chunk[at++] as number;
        if (this.have < FIELD_BYTES[this.field]) continue;
        this.have = 0;
        this.read();
        if (this.skip > 0) continue;
      }
      if (this.inBlock) {
        this.blockDone();
        return at;
      }
    }
    return at;
  }

  /** Reads the field just gathered and says what follows it. */
  private read(): void {
    const g = this.gathered;
    switch (this.field) {
      case 'magic': {
        const magic = (g[0]! | (g[1]! << 8) | (g[2]! << 16) | (g[3]! << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) this.field = 'frame-header-descriptor';
        else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) this.field = 'skippable-size';
        else this.field = 'lost';
        return;
      }
      case 'skippable-size':
        this.skip = (g[0]! | (g[1]! << 8) | (g[2]! << 16) | (g[3]! << 24)) >>> 0;
        this.field = 'magic';
        return;
      case 'frame-header-descriptor': {
        const descriptor = g[0]!;
        const singleSegment = (descriptor >> 5) & 1;
        const contentSizeFlag = descriptor >> 6;
        this.checksum = ((descriptor >> 2) & 1) === 1;
        // Window descriptor, dictionary id and frame content size; a single-segment frame always has a
        // content size, of at least one byte.
        this.skip =
          (singleSegment ? 0 : 1) +
          DICTIONARY_ID_BYTES[descriptor & 3]! +
          (contentSizeFlag === 0 ? singleSegment : CONTENT_SIZE_BYTES[contentSizeFlag]!);
        this.field = 'block-header';
        return;
      }
      case 'block-header': {
        const header = g[0]! | (g[1]! << 8) | (g[2]! << 16);
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === RESERVED_BLOCK) {
          this.field = 'lost';
          return;
        }
        this.lastBlock = (header & 1) === 1;
        this.skip = type === RLE_BLOCK ? 1 : size;
        this.inBlock = true;
        return;
      }
      case 'checksum':
        this.field = 'magic';
        return;
      case 'lost':
        return;
    }
  }

  private blockDone(): void {
    this.inBlock = false;
    if (!this.lastBlock) return; // the next block header follows
    this.field = this.checksum ? 'checksum' : 'magic';
  }
}
