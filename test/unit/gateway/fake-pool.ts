import type { Dispatcher, Pool } from 'undici'
import type { PoolFactory, UpstreamDispatcher } from '../../../gateway/src/upstreams/upstream.js'

/** A connection pool that opens no socket: it records what it was asked, and closes when told. */
export class FakePool implements UpstreamDispatcher {
  readonly origin: string
  readonly options: Pool.Options
  readonly dispatched: Dispatcher.DispatchOptions[] = []
  closed = false

  constructor (origin: string, options: Pool.Options) {
    this.origin = origin
    this.options = options
  }

  dispatch (options: Dispatcher.DispatchOptions): boolean {
    this.dispatched.push(options)
    return true
  }

  async close (): Promise<void> {
    this.closed = true
  }
}

/** A pool factory for the front door (`factory` of the router's and the upstream's options) and the pools it made. */
export function fakePoolFactory (): { factory: PoolFactory, made: FakePool[] } {
  const made: FakePool[] = []
  return {
    made,
    factory: (origin, options) => {
      const pool = new FakePool(origin, options)
      made.push(pool)
      return pool
    }
  }
}
