import { mkdir, open, readFile, truncate as truncateFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../../../shared/src/logger.js'
import { recoverLog } from '../core/recover.js'
import type { ReplicationLog } from '../core/log.js'
import type { Entry } from '../core/types.js'
import { toWire } from '../core/wire.js'

/** `always`: fdatasync before a write counts as stored; `interval`: every `fsyncIntervalMs`; `never`: leave it to the OS. */
export type FsyncMode = 'always' | 'interval' | 'never'

export interface LogFileOptions {
  dir: string
  fsync: FsyncMode
  fsyncIntervalMs: number
  log?: Logger
}

interface Waiter { lines: string, resolve: () => void, reject: (err: Error) => void }

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

  /** Reads the file (creating it when absent), cuts a torn tail, and returns the log it holds. */
  async open (): Promise<ReplicationLog> {
    await mkdir(this.#opts.dir, { recursive: true })
    const text = await readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return ''; throw err })
    const { log, goodBytes, dropped } = recoverLog(text)
    if (goodBytes < Buffer.byteLength(text)) {
      this.#opts.log?.warn({ dropped, goodBytes }, 'log file had a torn tail; cut it off')
      await truncateFile(this.path, goodBytes)
    }
    this.#fh = await open(this.path, 'a')
    if (this.#opts.fsync === 'interval') {
      this.#timer = setInterval(() => { void this.#syncIfDirty() }, this.#opts.fsyncIntervalMs)
      this.#timer.unref()
    }
    return log
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

  #enqueue (lines: string): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#queue.push({ lines, resolve, reject })
      if (!this.#writing) void this.#drain()
    })
    this.#tail = done.catch(() => {})
    return done
  }

  async #drain (): Promise<void> {
    this.#writing = true
    while (this.#queue.length > 0) {
      const group = this.#queue
      this.#queue = []
      try {
        if (this.#fh === undefined) throw new Error('log file is not open')
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

  async #syncIfDirty (): Promise<void> {
    if (!this.#dirty || this.#fh === undefined) return
    this.#dirty = false
    await this.#fh.datasync().catch(() => {})
  }
}
