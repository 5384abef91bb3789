import { Agent, request } from 'undici'
import type { AppendReply, AppendRequest, SnapshotRequest } from '../core/types.js'
import { replyFromWire, requestToWire, snapshotRequestToWire } from '../core/wire.js'

export interface ForwardedResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

/** Keep-alive HTTP to the other replicas: replication and forwarded client requests. */
export class PeerClient {
  readonly #agent = new Agent({ connections: 16, keepAliveTimeout: 10_000, connect: { timeout: 1_000 } })
  readonly #timeoutMs: number

  constructor ({ timeoutMs }: { timeoutMs: number }) {
    this.#timeoutMs = timeoutMs
  }

  async append (baseUrl: string, req: AppendRequest): Promise<AppendReply> {
    return await this.#post(baseUrl, '/internal/append', JSON.stringify(requestToWire(req)), this.#timeoutMs)
  }

  /** A snapshot can be large: it gets ten times the usual timeout. */
  async snapshot (baseUrl: string, req: SnapshotRequest): Promise<AppendReply> {
    return await this.#post(baseUrl, '/internal/snapshot', JSON.stringify(snapshotRequestToWire(req)), this.#timeoutMs * 10)
  }

  async #post (baseUrl: string, path: string, body: string, timeoutMs: number): Promise<AppendReply> {
    const res = await request(new URL(path, baseUrl), {
      dispatcher: this.#agent,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
    const reply = replyFromWire(await res.body.json().catch(() => undefined))
    if (reply === undefined) throw new Error(`${path} on ${baseUrl} answered ${res.statusCode} without a reply`)
    return reply
  }

  /** Sends a client request on to the leader and hands back what it answered. */
  async forward (baseUrl: string, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<ForwardedResponse> {
    const res = await request(new URL(path, baseUrl), {
      dispatcher: this.#agent,
      method: method as 'GET',
      headers,
      body: body ?? null,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
    const out: Record<string, string> = {}
    for (const name of ['content-type', 'etag', 'x-kv-version', 'x-kv-lag', 'x-instance-id', 'retry-after']) {
      const v = res.headers[name]
      if (typeof v === 'string') out[name] = v
    }
    return { status: res.statusCode, headers: out, body: Buffer.from(await res.body.arrayBuffer()) }
  }

  async close (): Promise<void> {
    await this.#agent.close()
  }
}
