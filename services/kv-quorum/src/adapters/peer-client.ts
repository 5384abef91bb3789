import { Pool } from 'undici'
import { deadlineHeader, hopDeadline } from '../../../../shared/src/service/deadline.js'
import { fromWire, toWire, type KvRecord } from '../core/record.js'
import { PeerStatusError } from './peer-failure.js'

/**
 * Talks to the other replicas on their /internal routes, one keep-alive pool per peer URL.
 * Every call has a deadline, sent along (`x-request-deadline`) so a replica that reads it too
 * late refuses it; any failure (refused, timeout, non-2xx) throws.
 */
export class PeerClient {
  readonly #pools = new Map<string, Pool>()
  readonly #connections: number

  constructor ({ connections = 16 }: { connections?: number } = {}) {
    this.#connections = connections
  }

  #pool (url: string): Pool {
    let pool = this.#pools.get(url)
    if (pool === undefined) {
      pool = new Pool(url, { connections: this.#connections, keepAliveTimeout: 10_000, connect: { timeout: 1_000 } })
      this.#pools.set(url, pool)
    }
    return pool
  }

  /** Closes pools for peers no longer in `urls` (a restarted peer gets a new port). */
  retain (urls: Iterable<string>): void {
    const keep = new Set(urls)
    for (const [url, pool] of this.#pools) {
      if (!keep.has(url)) {
        this.#pools.delete(url)
        void pool.destroy().catch(() => {})
      }
    }
  }

  async #call (url: string, method: 'GET' | 'PUT', path: string, budgetMs: number, body?: unknown, upstreamDeadline?: number): Promise<unknown> {
    const deadline = hopDeadline(budgetMs, upstreamDeadline)
    const timeoutMs = Math.max(1, deadline - Date.now())
    const headers: Record<string, string> = { [deadlineHeader]: String(deadline) }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await this.#pool(url).request({
      method,
      path,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs)
    })
    const text = await res.body.text()
    if (res.statusCode < 200 || res.statusCode >= 300) throw new PeerStatusError(`${method} ${url}${path} answered ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode)
    return JSON.parse(text) as unknown
  }

  /**
   * Stores records on a peer (newest wins there); resolves once the peer persisted them. A
   * client write passes its own deadline: the call never outlives the request it serves.
   */
  async putRecords (url: string, records: readonly KvRecord[], timeoutMs: number, deadline?: number): Promise<void> {
    await this.#call(url, 'PUT', '/internal/replica/records', timeoutMs, { records: records.map(toWire) }, deadline)
  }

  async getRecord (url: string, key: string, timeoutMs: number, deadline?: number): Promise<KvRecord | undefined> {
    const body = await this.#call(url, 'GET', `/internal/replica/keys/${encodeURIComponent(key)}`, timeoutMs, undefined, deadline) as { record: unknown }
    if (body.record === null) return undefined
    const record = fromWire(body.record)
    if (record === undefined) throw new Error(`${url} sent a malformed record`)
    return record
  }

  async digests (url: string, timeoutMs: number): Promise<string[]> {
    const body = await this.#call(url, 'GET', '/internal/replica/digests', timeoutMs) as { digests: unknown }
    if (!Array.isArray(body.digests)) throw new Error(`${url} sent malformed digests`)
    return body.digests.map(String)
  }

  async bucket (url: string, bucket: number, timeoutMs: number): Promise<KvRecord[]> {
    const body = await this.#call(url, 'GET', `/internal/replica/buckets/${bucket}`, timeoutMs) as { records: unknown }
    if (!Array.isArray(body.records)) throw new Error(`${url} sent a malformed bucket`)
    return body.records.map((w) => {
      const r = fromWire(w)
      if (r === undefined) throw new Error(`${url} sent a malformed record`)
      return r
    })
  }

  async close (): Promise<void> {
    await Promise.all([...this.#pools.values()].map(async (p) => await p.destroy().catch(() => {})))
    this.#pools.clear()
  }
}
