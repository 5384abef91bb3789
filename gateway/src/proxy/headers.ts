import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded. So is
 * `Expect`: the gateway answers a client's `100-continue` itself (app.ts), and undici refuses to
 * send the header at all (forwarding it failed every such try, and each failure ejected an instance).
 */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'expect'])

export interface ForwardContext {
  clientIp: string
  requestId: string
  host: string | undefined
}

/** The headers sent upstream: the caller's minus hop-by-hop ones, plus x-forwarded-* and the request id. */
export function upstreamHeaders (incoming: IncomingHttpHeaders, ctx: ForwardContext): Record<string, string | string[]> {
  const dropped = connectionTokens(incoming.connection)
  const out: Record<string, string | string[]> = {}
  for (const name in incoming) {
    const value = incoming[name]
    if (value === undefined || hopByHop.has(name) || dropped?.has(name) === true) continue
    out[name] = value
  }
  const prior = incoming['x-forwarded-for']
  out['x-forwarded-for'] = prior === undefined ? ctx.clientIp : `${String(prior)}, ${ctx.clientIp}`
  out['x-forwarded-proto'] = 'http'
  if (ctx.host !== undefined) out['x-forwarded-host'] = ctx.host
  out['x-request-id'] = ctx.requestId
  return out
}

/** The upstream's response headers as the client should see them. */
export function downstreamHeaders (upstream: Record<string, string | string[] | undefined>, requestId: string): OutgoingHttpHeaders {
  const dropped = connectionTokens(upstream.connection)
  const out: OutgoingHttpHeaders = {}
  for (const name in upstream) {
    const value = upstream[name]
    if (value === undefined || hopByHop.has(name) || dropped?.has(name) === true) continue
    out[name] = value
  }
  out['x-request-id'] ??= requestId
  return out
}

function connectionTokens (header: string | string[] | undefined): Set<string> | undefined {
  if (header === undefined) return undefined
  const text = Array.isArray(header) ? header.join(',') : header
  if (text === 'keep-alive' || text === 'close') return undefined
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean))
}
