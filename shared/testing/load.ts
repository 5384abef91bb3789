import { Agent, request } from 'undici'
import { sleep } from './wait.js'

export interface LoadResult {
  sent: number
  ok: number
  /** Failed requests by cause: an HTTP status or an error code. */
  failures: Record<string, number>
  byInstance: Record<string, number>
  /** The longest a request took, in ms. */
  slowestMs: number
  /** The first few failed responses, for a useful assertion message. */
  examples: string[]
}

/**
 * A small closed-loop load for tests: `concurrency` workers send requests until `durationMs`
 * passes or `maxRequests` are sent, and every outcome is counted. Bounded in time and count.
 */
export async function runLoad (opts: { url: string, durationMs: number, concurrency: number, method?: string, body?: string, maxRequests?: number, timeoutMs?: number, pauseMs?: number, signal?: AbortSignal }): Promise<LoadResult> {
  const agent = new Agent({ connections: opts.concurrency, keepAliveTimeout: 2_000 })
  const result: LoadResult = { sent: 0, ok: 0, failures: {}, byInstance: {}, slowestMs: 0, examples: [] }
  const stopAt = Date.now() + opts.durationMs
  const max = opts.maxRequests ?? 100_000
  const worker = async (): Promise<void> => {
    while (Date.now() < stopAt && result.sent < max && opts.signal?.aborted !== true) {
      result.sent += 1
      const t0 = performance.now()
      try {
        const res = await request(opts.url, {
          method: (opts.method ?? 'GET') as 'GET',
          dispatcher: agent,
          ...(opts.body !== undefined ? { body: opts.body, headers: { 'content-type': 'application/json' } } : {}),
          headersTimeout: opts.timeoutMs ?? 10_000,
          bodyTimeout: opts.timeoutMs ?? 10_000
        })
        const instance = String(res.headers['x-instance-id'] ?? '?')
        result.byInstance[instance] = (result.byInstance[instance] ?? 0) + 1
        if (res.statusCode < 400) {
          await res.body.dump()
          result.ok += 1
        } else {
          const text = await res.body.text()
          result.failures[String(res.statusCode)] = (result.failures[String(res.statusCode)] ?? 0) + 1
          if (result.examples.length < 5) result.examples.push(`${res.statusCode} from ${instance}: ${text.slice(0, 200)}`)
        }
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'error'
        result.failures[code] = (result.failures[code] ?? 0) + 1
      }
      result.slowestMs = Math.max(result.slowestMs, performance.now() - t0)
      if (opts.pauseMs !== undefined) await sleep(opts.pauseMs)
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker))
  await agent.close()
  return result
}
