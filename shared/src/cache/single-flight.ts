/**
 * Identical concurrent calls share one execution. Each caller may bring its own AbortSignal:
 * a caller that gives up stops waiting at once, and the shared execution is aborted only when
 * every caller has given up (so one impatient client never cancels work others still want).
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>()

  /** How many distinct executions are running. */
  get size (): number {
    return this.#flights.size
  }

  /**
   * Runs `fn` unless an execution for `key` is already running, in which case it joins it.
   * `leader` is true for the caller whose `fn` ran.
   */
  async do (key: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<{ value: T, leader: boolean }> {
    signal?.throwIfAborted()
    let flight = this.#flights.get(key)
    const leader = flight === undefined
    if (flight === undefined) {
      const controller = new AbortController()
      const created: Flight<T> = { controller, waiters: 0, promise: Promise.resolve(undefined as T) }
      created.promise = (async () => {
        try {
          return await fn(controller.signal)
        } finally {
          if (this.#flights.get(key) === created) this.#flights.delete(key)
        }
      })()
      flight = created
      this.#flights.set(key, flight)
    }
    const joined = flight
    joined.waiters++
    let settled = false
    const leave = (): void => {
      if (settled) return
      settled = true
      joined.waiters--
      if (joined.waiters > 0) return
      // nobody wants it any more: cancel it, and let the next caller start afresh
      if (this.#flights.get(key) === joined) this.#flights.delete(key)
      joined.controller.abort(signal?.reason)
    }
    try {
      const value = signal === undefined
        ? await joined.promise
        : await raceAbort(joined.promise, signal, leave)
      return { value, leader }
    } finally {
      if (!settled) {
        settled = true
        joined.waiters--
      }
    }
  }
}

interface Flight<T> {
  controller: AbortController
  waiters: number
  promise: Promise<T>
}

async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort()
      reject(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'))
    }
    if (signal.aborted) {
      abort()
      return
    }
    signal.addEventListener('abort', abort, { once: true })
    promise.then(
      (v) => { signal.removeEventListener('abort', abort); resolve(v) },
      (e: unknown) => { signal.removeEventListener('abort', abort); reject(e instanceof Error ? e : new Error(String(e))) }
    )
  })
}
