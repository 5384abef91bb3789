import { Agent, request } from 'undici'
import { deadlineHeader, hopDeadline } from '../../../../shared/src/service/deadline.js'
import type { RegistryWatcher } from '../../../../shared/src/registry/watcher.js'
import type { ClaimOutcome, OutputCore, PairName } from '../../../../shared/src/pipeline/types.js'

export type SendResult =
  /** Accepted; `epoch` is the pair's newest epoch at the sink. */
  | { kind: 'ok', highWaterMark: string, epoch: number }
  | { kind: 'stale', message: string }
  | { kind: 'failed', message: string }

/**
 * Talks to the sink instances the registry lists, round-robin, one request at a time per
 * caller. Failures are returned, never thrown: the caller retries on the next instance.
 */
export class SinkClient {
  readonly #watcher: RegistryWatcher
  readonly #service: string
  readonly #timeoutMs: number
  readonly #agent = new Agent({ connections: 8, keepAliveTimeout: 10_000, connect: { timeout: 1_000 } })
  #next = 0

  constructor (watcher: RegistryWatcher, { service = 'sink', timeoutMs = 2_000 } = {}) {
    this.#watcher = watcher
    this.#service = service
    this.#timeoutMs = timeoutMs
  }

  /** The next sink URL in turn, or undefined when the registry lists none. */
  pick (): string | undefined {
    const urls = this.#watcher.instances(this.#service).map((r) => r.url).sort()
    if (urls.length === 0) return undefined
    return urls[this.#next++ % urls.length]
  }

  /** `holder` is the lease owner token the epoch was granted to ('' for epoch 0). */
  async send (url: string, batch: { pair: PairName, epoch: number, holder: string, instance: string, outputs: OutputCore[] }): Promise<SendResult> {
    try {
      const res = await request(`${url}/internal/outputs`, this.#options(JSON.stringify(batch)))
      const body = await res.body.json() as { highWaterMark?: string, epoch?: number, error?: string, message?: string }
      if (res.statusCode === 200) return { kind: 'ok', highWaterMark: body.highWaterMark ?? '0-0', epoch: body.epoch ?? 0 }
      if (body.error === 'SINK_ERR_STALE_EPOCH') return { kind: 'stale', message: body.message ?? '' }
      return { kind: 'failed', message: `${res.statusCode} ${body.error ?? ''} ${body.message ?? ''}` }
    } catch (err) {
      return { kind: 'failed', message: (err as Error).message }
    }
  }

  /** Announces `epoch` for `holder` and reads the pair's high-water mark (epoch 0 only reads); undefined when no answer. */
  async claim (url: string, pair: PairName, epoch: number, holder = ''): Promise<{ outcome: ClaimOutcome, epoch: number, highWaterMark: string } | undefined> {
    try {
      const res = await request(`${url}/internal/pairs/${pair}/claim`, this.#options(JSON.stringify(epoch > 0 ? { epoch, holder } : { epoch })))
      const body = await res.body.json() as { outcome: ClaimOutcome, epoch: number, highWaterMark: string }
      return res.statusCode === 200 ? body : undefined
    } catch {
      return undefined
    }
  }

  async close (): Promise<void> {
    await this.#agent.close()
  }

  /**
   * Every call carries its deadline: a sink that reads it later (it was frozen meanwhile) refuses
   * it, so a batch the ledger gave up on and sent elsewhere is never applied late.
   */
  #options (body: string): Parameters<typeof request>[1] {
    return {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', [deadlineHeader]: String(hopDeadline(this.#timeoutMs)) },
      dispatcher: this.#agent,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs
    }
  }
}
