import { createReadStream } from 'node:fs'
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fromWire, toWire, type KvRecord } from '../core/record.js'

export interface LogOptions {
  dir: string
  /** Rewrite the log once it holds `compactRatio` × live records lines (and at least 1 000). */
  compactRatio: number
  /** Called for every record found on open, in file order. */
  onRecord: (record: KvRecord) => void
  /** The live records, for compaction. */
  snapshot: () => Iterable<KvRecord>
  /** A failed compaction leaves the old log in place; it is reported here. */
  onError?: (err: Error) => void
}

const fileName = 'records.log'

/**
 * One replica's durability: an append-only file of JSON lines, one applied record each.
 * Appends are batched (one write per batch, in order); a record is acknowledged once the
 * write returned, so it survives a crash of the process (not of the machine: no fsync per
 * write). Replay applies lines with newest-wins, so a torn last line or a duplicate is harmless.
 * Compaction writes the live records to a new file and renames it over the old one.
 */
export class AppendLog {
  readonly #opts: LogOptions
  readonly #path: string
  #file: FileHandle | undefined
  #pending: Array<{ line: string, done: () => void, fail: (err: Error) => void }> = []
  #flushing: Promise<void> | undefined
  #lines = 0
  #compactRequested = false
  #liveCount = () => 0

  constructor (opts: LogOptions) {
    this.#opts = opts
    this.#path = join(opts.dir, fileName)
  }

  get path (): string { return this.#path }

  /** Creates the directory if needed, replays the file, opens it for appending. */
  async open (liveCount: () => number): Promise<{ replayed: number, corrupt: number }> {
    this.#liveCount = liveCount
    await mkdir(this.#opts.dir, { recursive: true })
    let replayed = 0
    let corrupt = 0
    try {
      const lines = createInterface({ input: createReadStream(this.#path), crlfDelay: Infinity })
      for await (const line of lines) {
        if (line === '') continue
        this.#lines++
        let record: KvRecord | undefined
        try {
          record = fromWire(JSON.parse(line))
        } catch {}
        if (record === undefined) corrupt++
        else { this.#opts.onRecord(record); replayed++ }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    this.#file = await open(this.#path, 'a')
    return { replayed, corrupt }
  }

  /** Resolves once the record's line is written. */
  async append (record: KvRecord): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#pending.push({ line: JSON.stringify(toWire(record)) + '\n', done: resolve, fail: reject })
      this.#flushing ??= this.#flush()
    })
  }

  async #flush (): Promise<void> {
    try {
      while (this.#pending.length > 0 || this.#compactRequested) {
        if (this.#compactRequested) {
          this.#compactRequested = false
          await this.#compact().catch((err: Error) => this.#opts.onError?.(err))
          continue
        }
        const batch = this.#pending
        this.#pending = []
        try {
          if (this.#file === undefined) throw new Error('log is closed')
          await this.#file.write(batch.map((p) => p.line).join(''))
          this.#lines += batch.length
          for (const p of batch) p.done()
        } catch (err) {
          for (const p of batch) p.fail(err as Error)
        }
        if (this.#lines >= 1_000 && this.#lines > this.#opts.compactRatio * this.#liveCount()) this.#compactRequested = true
      }
    } finally {
      this.#flushing = undefined
    }
  }

  /** Runs inside the flush loop, so no append interleaves with the rewrite. */
  async #compact (): Promise<void> {
    const tmp = `${this.#path}.tmp`
    const out = await open(tmp, 'w')
    let lines = 0
    try {
      let chunk: string[] = []
      for (const record of this.#opts.snapshot()) {
        chunk.push(JSON.stringify(toWire(record)))
        lines++
        if (chunk.length >= 1_000) { await out.write(chunk.join('\n') + '\n'); chunk = [] }
      }
      if (chunk.length > 0) await out.write(chunk.join('\n') + '\n')
      await out.sync()
    } finally {
      await out.close()
    }
    await rename(tmp, this.#path)
    await this.#file?.close()
    this.#file = await open(this.#path, 'a')
    this.#lines = lines
  }

  /** Forces a compaction now (after tombstones were collected). */
  async compact (): Promise<void> {
    this.#compactRequested = true
    this.#flushing ??= this.#flush()
    await this.#flushing
  }

  async close (): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing
    await this.#file?.close()
    this.#file = undefined
  }
}
