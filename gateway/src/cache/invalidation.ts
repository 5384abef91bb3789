/**
 * Invalidation by unsafe methods (RFC 9111 §4.4): a non-error response to a POST, PUT, DELETE
 * or any method not known to be safe means the resource changed, so the cache drops what it
 * stored for the target URI and for the `Location` and `Content-Location` URIs (when they name
 * the same origin, so one service can never purge another's entries).
 */
import type { HeaderMap } from './policy.js'

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export function isUnsafe (method: string): boolean {
  return !safeMethods.has(method.toUpperCase())
}

/**
 * The paths (with their query) of the same service to invalidate after an unsafe request to
 * `targetPath` answered `status`: none for an error (1xx, 4xx, 5xx); otherwise the target and
 * the Location / Content-Location references resolved against it. A reference with an
 * authority counts only when that authority is the one the client addressed (`host`).
 */
export function invalidatedPaths (targetPath: string, status: number, headers: HeaderMap, host: string | undefined): string[] {
  if (status < 200 || status > 399) return []
  const base = new URL(targetPath, 'http://gateway.invalid')
  const out = new Set([targetPath])
  for (const name of ['location', 'content-location']) {
    const raw = headers[name]
    if (raw === undefined) continue
    const ref = String(Array.isArray(raw) ? raw[0] : raw).trim()
    let url: URL
    try {
      url = new URL(ref, base)
    } catch {
      continue
    }
    const sameOrigin = url.origin === base.origin || (host !== undefined && url.host === host)
    if (sameOrigin) out.add(url.pathname + url.search)
  }
  return [...out]
}
