import { request } from 'undici'

/**
 * Every process saying "ready" is not yet a ready cluster: the gateway must also have seen an
 * instance of every service. Polls its /readyz until 200; returns 'ready' or the last reason.
 */
export async function waitUntilReady (readyzUrl: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let reason = 'no answer'
  while (Date.now() < deadline) {
    try {
      const res = await request(readyzUrl, { headersTimeout: 1_000, bodyTimeout: 1_000 })
      const body = await res.body.json() as { message?: string }
      if (res.statusCode === 200) return 'ready'
      reason = body.message ?? `HTTP ${res.statusCode}`
    } catch (err) {
      reason = (err as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return reason
}
