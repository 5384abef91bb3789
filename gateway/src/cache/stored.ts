/**
 * What the cache keeps (in its process and in Redis) and how it is built from an exchange with
 * the origin, or freshened by a `304`. Pure: the exchange's times are arguments.
 */
import { initialAgeMs, parseAge } from './age.js'
import { formatHttpDate, parseHttpDate } from './http-date.js'
import { isStorable, responsePolicy, retentionMs, storedFields, type HeaderMap, type PolicyOptions, type ResponsePolicy, type StoreContext } from './policy.js'
import { freshenFields } from './validation.js'
import { varyNames } from './vary.js'

/** A stored response. */
export interface StoredResponse {
  kind: 'response'
  status: number
  headers: Record<string, string | string[]>
  /** base64 */
  body: string
  /** The `Vary` names it was selected by (sorted, lower-case). */
  vary: string[]
  /** When the request that obtained it (or last validated it) was sent, and the answer came. */
  requestTime: number
  responseTime: number
  /** corrected_initial_age (RFC 9111 §4.2.3), ms. */
  initialAgeMs: number
  policy: ResponsePolicy
  /** Surrogate keys (`Surrogate-Key`): purging one of them drops this response. */
  tags: string[]
}

/**
 * The record under a URI's key when its responses vary: the names to select by, and a
 * generation that is part of every variant's key, so variants stored before an invalidation
 * can never be reached again through a newer record.
 */
export interface VaryRecord {
  kind: 'vary'
  names: string[]
  generation: string
}

export type StoredRecord = StoredResponse | VaryRecord

/** A complete response as received from the origin. */
export interface Received {
  status: number
  headers: HeaderMap
  body: Buffer
}

export interface ExchangeTimes {
  requestTime: number
  responseTime: number
}

/**
 * The stored form of a received response and how long to keep it, or undefined when it must
 * not (or need not) be stored. A response without `Date` gets the time it was received
 * (RFC 9110 §6.6.1).
 */
export function toStored (received: Received, ctx: StoreContext, times: ExchangeTimes, options: PolicyOptions): { record: StoredResponse, retentionMs: number } | undefined {
  const initialAge = initialAgeMs({ ageS: parseAge(received.headers.age), dateMs: parseHttpDate(received.headers.date, times.responseTime), ...times })
  const policy = responsePolicy(received.status, received.headers, times.responseTime, options, initialAge)
  if (!isStorable(received.status, received.headers, policy, ctx)) return undefined
  const vary = varyNames(received.headers.vary)
  if (vary === undefined) return undefined
  const headers = storedFields(received.headers)
  headers.date ??= formatHttpDate(times.responseTime)
  const record: StoredResponse = {
    kind: 'response',
    status: received.status,
    headers,
    body: received.body.toString('base64'),
    vary,
    requestTime: times.requestTime,
    responseTime: times.responseTime,
    initialAgeMs: initialAge,
    policy,
    tags: surrogateKeys(received.headers['surrogate-key'])
  }
  return { record, retentionMs: retentionMs(policy, options, initialAge) }
}

/**
 * The stored response freshened by a `304` received at `times` (RFC 9111 §4.3.4): its fields
 * updated, its age and freshness recomputed from the 304's `Date`, `Age` and directives.
 */
export function freshen (stored: StoredResponse, notModified: HeaderMap, times: ExchangeTimes, options: PolicyOptions): { record: StoredResponse, retentionMs: number } {
  const headers = freshenFields(stored.headers, notModified)
  if (notModified.date === undefined) headers.date = formatHttpDate(times.responseTime)
  const initialAge = initialAgeMs({ ageS: parseAge(notModified.age), dateMs: parseHttpDate(headers.date, times.responseTime), ...times })
  const policy = responsePolicy(stored.status, headers, times.responseTime, options, initialAge)
  const record: StoredResponse = {
    ...stored,
    headers,
    requestTime: times.requestTime,
    responseTime: times.responseTime,
    initialAgeMs: initialAge,
    policy,
    tags: headers['surrogate-key'] === undefined ? stored.tags : surrogateKeys(headers['surrogate-key'])
  }
  return { record, retentionMs: retentionMs(policy, options, initialAge) }
}

/** `Surrogate-Key: a b c` (space-separated, as Fastly defines it). */
export function surrogateKeys (value: string | string[] | number | undefined): string[] {
  if (value === undefined) return []
  return [...new Set((Array.isArray(value) ? value.join(' ') : String(value)).split(/\s+/).filter(Boolean))]
}
