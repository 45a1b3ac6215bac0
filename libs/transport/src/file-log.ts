import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { InProcessLog } from './in-process-log.js';
import { LocalLog, type Subscription } from './log.js';

export interface RecordCodec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /**
   * Optional: a codec with state per segment (a dictionary of what earlier records of the
   * segment wrote). One is made for each segment written and each segment read; a segment is
   * then read only from its start.
   */
  segment?(): SegmentCodec<T>;
}

export interface SegmentCodec<T> {
  /**
   * The encoding after `header` free bytes, in a buffer the codec reuses (valid until its next
   * call), so a large record costs no allocation of its own.
   */
  encodeFramed(value: T, header: number): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** A record before the replay start: read only for the state later records need. */
  skip(bytes: Uint8Array): void;
}

export interface FileLogOptions {
  /** A segment is closed and a new one started past this size. */
  segmentBytes?: number;
  /** Called for every repair made while opening (a torn or corrupt tail cut off). */
  onRepair?: (message: string) => void;
}

const HEADER = 8;
const SEGMENT_SUFFIX = '.seg';

interface Segment {
  base: number;
  path: string;
}

interface PartitionFiles<T> {
  dir: string;
  segments: Segment[];
  fd: number;
  size: number;
  /** Offset the next appended record gets. */
  next: number;
  /** The segment state of the segment being written, for codecs that have one. */
  writer: SegmentCodec<T> | undefined;
  /** A write failed after the codec state took the record in: start a new segment first. */
  mustRoll: boolean;
}

function segmentName(base: number): string {
  return String(base).padStart(20, '0') + SEGMENT_SUFFIX;
}

/**
 * The embedded mode's write-ahead log: the in-process partitioned log, with every record also
 * written to a segment file before `append` resolves, and committed offsets kept on disk. A
 * `kill -9` therefore loses nothing that was acknowledged; on open the records after the oldest
 * committed offset are replayed to consumers. Records are framed as length, CRC-32 and payload,
 * so a torn write at the tail is detected and cut off.
 *
 * Writes reach the kernel before the acknowledgement but are not fsynced one by one (as
 * Prometheus' WAL): a process crash loses nothing, a power loss may lose the newest records.
 */
export class FileLog<T> extends LocalLog<T> {
  private readonly mem: InProcessLog<T>;
  private readonly files: PartitionFiles<T>[] = [];
  private readonly commits = new Map<string, number[]>();
  private readonly subscriptions = new Map<number, Set<Subscription>>();
  private readonly segmentBytes: number;
  private closed = false;

  private constructor(
    private readonly dir: string,
    readonly partitions: number,
    private readonly codec: RecordCodec<T>,
    opts: FileLogOptions,
  ) {
    super();
    this.mem = new InProcessLog<T>(partitions);
    this.segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
  }

  static open<T>(
    dir: string,
    partitions: number,
    codec: RecordCodec<T>,
    opts: FileLogOptions = {},
  ): FileLog<T> {
    mkdirSync(dir, { recursive: true });
    const metaPath = join(dir, 'meta.json');
    if (existsSync(metaPath)) {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { partitions: number };
      if (meta.partitions !== partitions) {
        throw new Error(
          `write-ahead log at ${dir} has ${meta.partitions} partitions, not ${partitions}; ` +
            'the shard count of a storage directory cannot change',
        );
      }
    } else writeFileSync(metaPath, JSON.stringify({ partitions }));
    const log = new FileLog(dir, partitions, codec, opts);
    log.loadCommits();
    for (let p = 0; p < partitions; p++) log.openPartition(p, opts.onRepair ?? (() => undefined));
    return log;
  }

  private loadCommits(): void {
    const path = join(this.dir, 'commits.json');
    if (!existsSync(path)) return;
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number[]>;
    for (const [group, offsets] of Object.entries(raw)) this.commits.set(group, offsets);
  }

  private openPartition(p: number, onRepair: (m: string) => void): void {
    const dir = join(this.dir, `p-${p}`);
    mkdirSync(dir, { recursive: true });
    const segments: Segment[] = readdirSync(dir)
      .filter((f) => f.endsWith(SEGMENT_SUFFIX))
      .map((f) => ({ base: Number(f.slice(0, -SEGMENT_SUFFIX.length)), path: join(dir, f) }))
      .sort((a, b) => a.base - b.base);
    const groupCommits = new Map<string, number>();
    let keepFrom = Infinity;
    for (const [group, offsets] of this.commits) {
      const c = offsets[p] ?? 0;
      groupCommits.set(group, c);
      keepFrom = Math.min(keepFrom, c);
    }
    if (keepFrom === Infinity) keepFrom = 0;

    const records: T[] = [];
    let base = segments.length > 0 ? segments[0].base : 0;
    let next = base;
    let lastSize = 0;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      if (seg.base !== next) {
        // A gap means a lost segment; what follows cannot be placed, so it goes.
        onRepair(`${seg.path}: expected offset ${next}, found ${seg.base}; dropping it and later segments`);
        for (const s of segments.splice(i)) unlinkSync(s.path);
        break;
      }
      const buf = readFileSync(seg.path);
      const reader = this.codec.segment?.();
      let pos = 0;
      let bad: string | undefined;
      while (pos < buf.length) {
        if (pos + HEADER > buf.length) {
          bad = 'torn record header';
          break;
        }
        const len = buf.readUInt32LE(pos);
        const sum = buf.readUInt32LE(pos + 4);
        if (pos + HEADER + len > buf.length) {
          bad = 'torn record';
          break;
        }
        const payload = buf.subarray(pos + HEADER, pos + HEADER + len);
        if (crc32(payload) !== sum) {
          bad = 'checksum mismatch';
          break;
        }
        try {
          if (next >= keepFrom) records.push(reader ? reader.decode(payload) : this.codec.decode(payload));
          else reader?.skip(payload);
        } catch (e) {
          bad = `undecodable record: ${(e as Error).message}`;
          break;
        }
        next++;
        pos += HEADER + len;
      }
      lastSize = pos;
      if (bad !== undefined) {
        onRepair(`${seg.path}: ${bad} at byte ${pos} (offset ${next}); truncated there`);
        const fd = openSync(seg.path, 'r+');
        ftruncateSync(fd, pos);
        closeSync(fd);
        for (const s of segments.splice(i + 1)) {
          onRepair(`${s.path}: after a damaged segment; removed`);
          unlinkSync(s.path);
        }
        break;
      }
    }
    if (segments.length === 0) {
      base = next = Math.max(next, keepFrom === Infinity ? 0 : keepFrom);
      segments.push({ base, path: join(dir, segmentName(base)) });
      lastSize = 0;
    } else if (this.codec.segment && lastSize > 0) {
      // The writer's segment state is not rebuilt from the file: appends go to a new segment.
      segments.push({ base: next, path: join(dir, segmentName(next)) });
      lastSize = 0;
    }
    const retainedBase = Math.min(Math.max(keepFrom, base), next);
    this.mem.restore(p, retainedBase, records, groupCommits);
    const current = segments[segments.length - 1];
    this.files[p] = {
      dir,
      segments,
      fd: openSync(current.path, 'a'),
      size: lastSize,
      next,
      writer: this.codec.segment?.(),
      mustRoll: false,
    };
  }

  async append(partition: number, value: T): Promise<number> {
    if (this.closed) throw new Error('log is closed');
    const f = this.files[partition];
    if (!f) throw new Error(`partition ${partition} out of range 0..${this.partitions - 1}`);
    if (f.mustRoll) this.roll(f);
    let frame = this.frame(f, value);
    if (f.size > 0 && f.size + frame.length > this.segmentBytes) {
      // Encoded again for the new segment: its codec state starts empty.
      this.roll(f);
      frame = this.frame(f, value);
    }
    const header = new DataView(frame.buffer, frame.byteOffset, HEADER);
    header.setUint32(0, frame.length - HEADER, true);
    header.setUint32(4, crc32(frame.subarray(HEADER)), true);
    let written = 0;
    try {
      while (written < frame.length) written += writeSync(f.fd, frame, written);
    } catch (e) {
      // A full disk can leave part of the record written: cut it off, so that the records after
      // it (once there is room) are not stranded behind a torn one, and refuse this record.
      if (written > 0) ftruncateSync(f.fd, f.size);
      // The segment's codec state counts this record's definitions as written: the next record
      // starts a new segment rather than name series this one never got to define.
      if (f.writer) f.mustRoll = true;
      throw e;
    }
    f.size += frame.length;
    f.next++;
    return this.mem.append(partition, value);
  }

  private frame(f: PartitionFiles<T>, value: T): Uint8Array {
    if (f.writer) return f.writer.encodeFramed(value, HEADER);
    const payload = this.codec.encode(value);
    const frame = new Uint8Array(HEADER + payload.length);
    frame.set(payload, HEADER);
    return frame;
  }

  private roll(f: PartitionFiles<T>): void {
    // Nothing written to the current segment yet: it is the new one.
    if (f.size > 0) {
      const seg = { base: f.next, path: join(f.dir, segmentName(f.next)) };
      // Opened before the old one is closed: if there is no room for it, the current one goes on.
      const fd = openSync(seg.path, 'a');
      closeSync(f.fd);
      f.segments.push(seg);
      f.fd = fd;
      f.size = 0;
    }
    f.writer = this.codec.segment?.();
    f.mustRoll = false;
  }

  /**
   * Records stay in memory only until every subscription of their partition has handled them:
   * they are on disk, and a restart replays them from there. Memory thus holds the backlog, not
   * everything since the last commit.
   */
  consume(
    partition: number,
    from: number,
    handler: (offset: number, value: T) => Promise<void>,
  ): Subscription {
    let subs = this.subscriptions.get(partition);
    if (!subs) this.subscriptions.set(partition, (subs = new Set()));
    const active = subs;
    const sub: Subscription = this.mem.consume(partition, from, async (offset, value) => {
      await handler(offset, value);
      let min = Infinity;
      for (const s of active) min = Math.min(min, s === sub ? offset + 1 : s.position);
      this.mem.discardBefore(partition, min);
    });
    active.add(sub);
    return {
      get position() {
        return sub.position;
      },
      drained: () => sub.drained(),
      stop: async () => {
        active.delete(sub);
        await sub.stop();
      },
    };
  }

  committed(group: string, partition: number): Promise<number> {
    return this.mem.committed(group, partition);
  }

  async commit(group: string, partition: number, nextOffset: number): Promise<void> {
    await this.mem.commit(group, partition, nextOffset);
    let c = this.commits.get(group);
    if (!c) this.commits.set(group, (c = new Array<number>(this.partitions).fill(0)));
    if (nextOffset <= c[partition]) return;
    const previous = c[partition];
    c[partition] = nextOffset;
    const path = join(this.dir, 'commits.json');
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify(Object.fromEntries(this.commits)));
      renameSync(`${path}.tmp`, path);
    } catch (e) {
      // Not recorded: the next commit writes it again, and until then a restart replays more.
      c[partition] = previous;
      throw e;
    }
    this.dropSegments(partition);
  }

  /** Deletes segments every group has committed past; the one being written always stays. */
  private dropSegments(partition: number): void {
    const f = this.files[partition];
    const min = this.mem.minCommitted(partition);
    while (f.segments.length > 1 && f.segments[1].base <= min) {
      unlinkSync(f.segments[0].path);
      f.segments.shift();
    }
  }

  endOffset(partition: number): number {
    return this.mem.endOffset(partition);
  }

  /** Segment files per partition, for tests and the storage status. */
  segmentCount(partition: number): number {
    return this.files[partition].segments.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.files) closeSync(f.fd);
    await this.mem.close();
  }
}
