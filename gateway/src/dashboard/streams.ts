import type { ServerResponse } from 'node:http'
import type { ClusterEvent } from '../../../shared/src/events.js'

/** What one frame says: the cluster now, and the events since the last frame. */
export type FrameSource = (now: number) => object

export interface DashboardStreamsOptions {
  /** The cluster as the gateway sees it (statsView). */
  picture: FrameSource
  events: { readonly sequence: number, since: (sequence: number) => ClusterEvent[], upTo: (sequence: number) => ClusterEvent[] }
  /** @default 1000 */
  intervalMs: number
  /** Concurrent streams; the next one is refused. */
  maxStreams: number
  clock?: () => number
}

/** A stream this far behind (a client that stopped reading) is cut; its browser reconnects. */
const maxBufferedBytes = 1_048_576

/**
 * The dashboard's server-sent events: one timer, and one frame built and serialised per tick,
 * written to every open stream (each used to build its own every second: 3,000 streams cost a
 * third of a core and slowed the proxy). A new stream gets the full picture with the recent
 * events at once, then the shared frames, which carry only the events after it.
 */
export class DashboardStreams {
  readonly #o: DashboardStreamsOptions
  readonly #clock: () => number
  readonly #streams = new Set<ServerResponse>()
  #timer: NodeJS.Timeout | undefined
  /** Event sequence the last shared frame went up to. */
  #sent = 0

  constructor (options: DashboardStreamsOptions) {
    this.#o = options
    this.#clock = options.clock ?? Date.now
  }

  get size (): number { return this.#streams.size }
  get full (): boolean { return this.#streams.size >= this.#o.maxStreams }

  /** Starts streaming to `res` (headers already written); false when the cap is reached. */
  add (res: ServerResponse): boolean {
    if (this.full) return false
    if (this.#streams.size === 0) this.#start()
    this.#streams.add(res)
    res.once('close', () => this.#remove(res))
    // what the shared frames have not carried yet will come with the next one
    res.write(frame({ ...this.#o.picture(this.#clock()), events: this.#o.events.upTo(this.#sent), reset: true }))
    return true
  }

  /** Ends every stream (the gateway is stopping). */
  close (): void {
    for (const res of this.#streams) res.end()
    this.#streams.clear()
    this.#stop()
  }

  #start (): void {
    this.#sent = this.#o.events.sequence
    this.#timer = setInterval(() => this.#tick(), this.#o.intervalMs)
    this.#timer.unref()
  }

  #stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #remove (res: ServerResponse): void {
    this.#streams.delete(res)
    if (this.#streams.size === 0) this.#stop()
  }

  #tick (): void {
    const events = this.#o.events.since(this.#sent)
    this.#sent = this.#o.events.sequence
    const text = frame({ ...this.#o.picture(this.#clock()), events, reset: false })
    for (const res of this.#streams) {
      if (res.writableLength > maxBufferedBytes) res.destroy()
      else res.write(text)
    }
  }
}

function frame (data: object): string {
  return `event: cluster\ndata: ${JSON.stringify(data)}\n\n`
}
