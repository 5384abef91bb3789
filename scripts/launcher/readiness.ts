import { request } from 'undici'

export type Readiness =
  | { state: 'ready' }
  /** The gateway answered, not ready yet (a service without a healthy instance), or did not answer yet. */
  | { state: 'waiting', reason: string }
  /** Something else answers on the gateway's port: the gateway will never get it. */
  | { state: 'impostor', reason: string }

/**
 * One answer of `GET /readyz` on the gateway's port, judged. Every process answers /readyz, so a
 * 200 means nothing unless our gateway sent it (`x-instance-id`): with the port taken by echo-1,
 * the launcher once printed "cluster ready" while the gateway crash-looped.
 */
export function judgeReadyz (status: number, instanceId: string | undefined, message: string | undefined, gatewayId: string, port: number): Readiness {
  if (instanceId !== gatewayId) return { state: 'impostor', reason: `port ${port} is answered by ${instanceId === undefined ? 'another program' : `"${instanceId}"`}, not by ${gatewayId}: free the port or choose another (--port, PORT)` }
  if (status === 200) return { state: 'ready' }
  return { state: 'waiting', reason: message ?? `HTTP ${status}` }
}

/**
 * Every process saying "ready" is not yet a ready cluster: the gateway must also have seen an
 * instance of every service. Polls its /readyz until our gateway says 200, something else is
 * found on its port, or `timeoutMs` passes.
 */
export async function waitUntilReady (gatewayUrl: string, gatewayId: string, timeoutMs: number): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs
  const port = Number(new URL(gatewayUrl).port)
  let last: Readiness = { state: 'waiting', reason: 'no answer' }
  while (Date.now() < deadline) {
    try {
      const res = await request(`${gatewayUrl}/readyz`, { headersTimeout: 1_000, bodyTimeout: 1_000 })
      const text = await res.body.text()
      let message: string | undefined
      try { message = (JSON.parse(text) as { message?: string }).message } catch {}
      const id = res.headers['x-instance-id']
      last = judgeReadyz(res.statusCode, typeof id === 'string' ? id : undefined, message, gatewayId, port)
      if (last.state !== 'waiting') return last
    } catch (err) {
      last = { state: 'waiting', reason: (err as Error).message }
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return last
}
