import { Agent, request } from 'undici'

/** One request of a timed load: when it started and ended (ms since the epoch) and how it ended. */
export interface Outcome {
  start: number
  end: number
  ok: boolean
  /** HTTP status or error code */
  result: string
}

export interface LoadSummary {
  sent: number
  ok: number
  failed: number
  failures: Record<string, number>
  /**
   * The longest time during which requests failed: from the start of the first failed request of
   * a run of failures to the end of the next successful one (0 when nothing failed).
   */
  longestErrorWindowMs: number
  /** The longest time between two consecutive successful completions (a stall, failed or not). */
  longestGapMs: number
}

/** Pure: what a list of outcomes says about availability. */
export function summarizeOutcomes (outcomes: readonly Outcome[]): LoadSummary {
  const failures: Record<string, number> = {}
  let ok = 0
  for (const o of outcomes) {
    if (o.ok) ok += 1
    else failures[o.result] = (failures[o.result] ?? 0) + 1
  }
  const byEnd = [...outcomes].sort((a, b) => a.end - b.end)
  let longestErrorWindowMs = 0
  let longestGapMs = 0
  let lastOk: number | undefined
  let firstFailStart: number | undefined
  for (const o of byEnd) {
    if (!o.ok) {
      firstFailStart = Math.min(firstFailStart ?? o.start, o.start)
      continue
    }
    if (lastOk !== undefined) longestGapMs = Math.max(longestGapMs, o.end - lastOk)
    if (firstFailStart !== undefined) longestErrorWindowMs = Math.max(longestErrorWindowMs, o.end - firstFailStart)
    firstFailStart = undefined
    lastOk = o.end
  }
  if (firstFailStart !== undefined) longestErrorWindowMs = Math.max(longestErrorWindowMs, (byEnd.at(-1)?.end ?? firstFailStart) - firstFailStart)
  return { sent: outcomes.length, ok, failed: outcomes.length - ok, failures, longestErrorWindowMs, longestGapMs }
}

/**
 * A closed-loop load that records every request's outcome and time, bounded in time and count.
 * `stop()` ends it early; `done` resolves with every outcome.
 */
export function startTimedLoad (opts: { url: string | (() => string), durationMs: number, concurrency: number, method?: string, body?: string | (() => string), maxRequests?: number, timeoutMs?: number, onResponse?: (status: number, body: string) => void }): { done: Promise<Outcome[]>, stop: () => void } {
  const agent = new Agent({ connections: opts.concurrency, keepAliveTimeout: 2_000 })
  const outcomes: Outcome[] = []
  let stopAt = Date.now() + opts.durationMs
  const max = opts.maxRequests ?? 200_000
  const worker = async (): Promise<void> => {
    while (Date.now() < stopAt && outcomes.length < max) {
      const start = Date.now()
      try {
        const res = await request(typeof opts.url === 'function' ? opts.url() : opts.url, {
          method: (opts.method ?? 'GET') as 'GET',
          dispatcher: agent,
          ...(opts.body !== undefined ? { body: typeof opts.body === 'function' ? opts.body() : opts.body, headers: { 'content-type': 'application/json' } } : {}),
          headersTimeout: opts.timeoutMs ?? 10_000,
          bodyTimeout: opts.timeoutMs ?? 10_000
        })
        if (opts.onResponse !== undefined) opts.onResponse(res.statusCode, await res.body.text())
        else await res.body.dump()
        outcomes.push({ start, end: Date.now(), ok: res.statusCode < 400, result: String(res.statusCode) })
      } catch (err) {
        outcomes.push({ start, end: Date.now(), ok: false, result: (err as { code?: string }).code ?? 'error' })
      }
    }
  }
  const done = Promise.all(Array.from({ length: opts.concurrency }, worker)).then(async () => {
    await agent.close()
    return outcomes
  })
  return { done, stop: () => { stopAt = 0 } }
}
