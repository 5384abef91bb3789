import { mkdir, open, readFile, rename, truncate as truncateFile, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../../../shared/src/logger.js'
import { recoverLog } from '../core/recover.js'
import type { ReplicationLog } from '../core/log.js'
import type { Entry, Snapshot } from '../core/types.js'
import { snapshotFromWire, snapshotToWire, toWire } from '../core/wire.js'

/** `always`: fdatasync before a write counts as stored; `interval`: every `fsyncIntervalMs`; `never`: leave it to the OS. */
export type FsyncMode = 'always' | 'interval' | 'never'

export interface LogFileOptions {
  dir: string
  fsync: FsyncMode
  fsyncIntervalMs: number
  log?: Logger
}

interface Waiter { lines: string, compaction?: { snapshot: Snapshot, entriesAfter: Entry[] }, resolve: () => void, reject: (err: Error) => void }

export interface Opened { log: ReplicationLog, snapshot: Snapshot | undefined }

/**
 * The append-only log file of one replica (`<dir>/replication.log`). Appends and truncation
 * records are queued and written in groups, one write (and one fdatasync in `always` mode) per
 * group, in the order they were asked for.
 */
export class LogFile {
  readonly #opts: LogFileOptions
  #fh: FileHandle | undefined
  #queue: Waiter[] = []
  #writing = false
  #timer: NodeJS.Timeout | undefined
  #dirty = false
  #tail: Promise<void> = Promise.resolve()

  constructor (opts: LogFileOptions) {
    this.#opts = opts
  }

  get path (): string { return join(this.#opts.dir, 'replication.log') }
  get snapshotPath (): string { return join(this.#opts.dir, 'snapshot.json') }

  /** Reads the snapshot and the log file (creating it when absent), cuts a torn tail, and returns what they hold. */
  async open (): Promise<Opened> {
    await mkdir(this.#opts.dir, { recursive: true })
    const snapshotText = await readOptional(this.snapshotPath)
    const snapshot = snapshotText === '' ? undefined : snapshotFromWire(JSON.parse(snapshotText))
    if (snapshotText !== '' && snapshot === undefined) throw new Error(`${this.snapshotPath} is not a snapshot`)
    const text = await readOptional(this.path)
    const { log, goodBytes, dropped } = recoverLog(text, snapshot)
    if (goodBytes < Buffer.byteLength(text)) {
      this.#opts.log?.warn({ dropped, goodBytes }, 'log file had a torn tail; cut it off')
      await truncateFile(this.path, goodBytes)
    }
    this.#fh = await open(this.path, 'a')
    if (this.#opts.fsync === 'interval') {
      this.#timer = setInterval(() => { void this.#syncIfDirty() }, this.#opts.fsyncIntervalMs)
      this.#timer.unref()
    }
    return { log, snapshot }
  }

  /**
   * Writes `snapshot` (entries up to its index), then replaces the log file with `entriesAfter`;
   * each by write-to-temp, fsync, rename, so a crash leaves the old or the new file whole.
   */
  compact (snapshot: Snapshot, entriesAfter: Entry[]): Promise<void> {
    return this.#enqueue('', { snapshot, entriesAfter })
  }

  append (entries: Entry[]): Promise<void> {
    return this.#enqueue(entries.map((e) => JSON.stringify(toWire(e)) + '\n').join(''))
  }

  /** Records that every entry from `from` on is void (a deposed leader's tail). */
  truncate (from: number): Promise<void> {
    return this.#enqueue(JSON.stringify({ t: from }) + '\n')
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    while (this.#writing || this.#queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 5))
    await this.#syncIfDirty()
    await this.#fh?.close()
    this.#fh = undefined
  }

  /** Settles once everything asked for so far is written (and synced, in `always` mode). */
  written (): Promise<void> {
    return this.#tail
  }

  #enqueue (lines: string, compaction?: Waiter['compaction']): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#queue.push({ lines, ...(compaction !== undefined ? { compaction } : {}), resolve, reject })
      if (!this.#writing) void this.#drain()
    })
    this.#tail = done.catch(() => {})
    return done
  }

  async #drain (): Promise<void> {
    this.#writing = true
    while (this.#queue.length > 0) {
      // a compaction runs alone; the appends before it form one group
      const cut = this.#queue.findIndex((w) => w.compaction !== undefined)
      const group = this.#queue.splice(0, cut === 0 ? 1 : cut === -1 ? this.#queue.length : cut)
      try {
        if (this.#fh === undefined) throw new Error('log file is not open')
        const compaction = group[0]?.compaction
        if (compaction !== undefined) {
          await this.#rewrite(compaction.snapshot, compaction.entriesAfter)
          for (const w of group) w.resolve()
          continue
        }
        await this.#fh.write(group.map((w) => w.lines).join(''))
        if (this.#opts.fsync === 'always') await this.#fh.datasync()
        else this.#dirty = true
        for (const w of group) w.resolve()
      } catch (err) {
        for (const w of group) w.reject(err as Error)
      }
    }
    this.#writing = false
  }

  async #rewrite (snapshot: Snapshot, entriesAfter: Entry[]): Promise<void> {
    await writeDurably(this.snapshotPath, JSON.stringify(snapshotToWire(snapshot)))
    await writeDurably(this.path, entriesAfter.map((e) => JSON.stringify(toWire(e)) + '\n').join(''))
    await this.#fh?.close()
    this.#fh = await open(this.path, 'a')
    this.#dirty = false
  }

  async #syncIfDirty (): Promise<void> {
    if (!this.#dirty || this.#fh === undefined) return
    this.#dirty = false
    await this.#fh.datasync().catch(() => {})
  }
}

async function readOptional (path: string): Promise<string> {
  return await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return ''; throw err })
}

async function writeDurably (path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`
  await writeFile(tmp, text)
  const fh = await open(tmp, 'r+')
  await fh.datasync()
  await fh.close()
  await rename(tmp, path)
}
