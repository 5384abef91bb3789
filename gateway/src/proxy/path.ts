export type ProxyTarget =
  | { ok: true, service: string, path: string }
  | { ok: false, code: 'GW_ERR_BAD_PATH' | 'GW_ERR_FORBIDDEN_PATH', message: string }

const servicePattern = /^[a-z0-9][a-z0-9-]{0,62}$/
/** Internal routes (replication, hints, sink ingest) live under this prefix and are never proxied. */
const internalPrefix = 'internal'

/**
 * Splits `/api/<service>/<rest>?<query>` into the service and the path to forward, keeping the
 * caller's encoding. Refuses every trick that could reach an internal route or another path than
 * the one it seems to name: encoded slashes or backslashes, dot segments, empty segments, control
 * characters and double encoding are all judged on the fully decoded segment.
 */
export function parseProxyPath (rawUrl: string): ProxyTarget {
  const q = rawUrl.indexOf('?')
  const pathname = q === -1 ? rawUrl : rawUrl.slice(0, q)
  const query = q === -1 ? '' : rawUrl.slice(q)
  const rest = pathname.slice('/api/'.length)
  const slash = rest.indexOf('/')
  const service = slash === -1 ? rest : rest.slice(0, slash)
  if (!servicePattern.test(service)) return bad(`bad service name "${truncate(service)}"`)
  const forwarded = slash === -1 ? '/' : rest.slice(slash)
  const segments = forwarded.split('/').slice(1)
  for (let i = 0; i < segments.length; i++) {
    const raw = segments[i] as string
    if (raw === '' && i < segments.length - 1) return bad('empty path segment (double slash)')
    const decoded = fullyDecode(raw)
    if (decoded === undefined) return bad('malformed percent-encoding in path')
    if (decoded === '.' || decoded === '..') return bad('dot segments are not allowed in paths')
    if (/[/\\]/.test(decoded) || raw.includes('\\')) return bad('encoded slashes are not allowed in paths')
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(decoded)) return bad('control characters are not allowed in paths')
    if (i === 0 && decoded.toLowerCase() === internalPrefix) {
      return { ok: false, code: 'GW_ERR_FORBIDDEN_PATH', message: 'internal routes are not reachable through the gateway' }
    }
  }
  return { ok: true, service, path: forwarded + query }
}

/** Decodes until stable (at most 3 rounds), so `%252e%252e` is seen as `..`. */
function fullyDecode (segment: string): string | undefined {
  let current = segment
  for (let round = 0; round < 3 && current.includes('%'); round++) {
    try {
      const next = decodeURIComponent(current)
      if (next === current) break
      current = next
    } catch {
      return round === 0 ? undefined : current
    }
  }
  return current
}

function bad (message: string): ProxyTarget {
  return { ok: false, code: 'GW_ERR_BAD_PATH', message }
}

function truncate (s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s
}
