/**
 * Age (RFC 9111 §4.2.3, §5.1): how old a stored response is, counting the time it spent in
 * caches upstream (`Age`), the time it travelled (`Date`, the request's round trip) and the
 * time it has spent here. All in ms, except the `Age` field itself (seconds).
 */
import { maxDeltaSeconds } from './directives.js'

/**
 * The `Age` field in seconds: the first field line's first list member, when it is a
 * non-negative integer (capped at 2^31); anything else is ignored (0), as RFC 9111 §5.1 says
 * an invalid Age is.
 */
export function parseAge (value: string | string[] | number | undefined): number {
  if (value === undefined) return 0
  const first = Array.isArray(value) ? value[0] : String(value)
  if (first === undefined) return 0
  const member = (first.split(',')[0] ?? '').trim()
  if (!/^\d+$/.test(member)) return 0
  const n = Number(member)
  return n > maxDeltaSeconds ? maxDeltaSeconds : n
}

export interface AgeInputs {
  /** The upstream's `Age`, in seconds. */
  ageS: number
  /** The upstream's `Date` (epoch ms), when valid. */
  dateMs: number | undefined
  /** When the request that obtained the response was sent. */
  requestTime: number
  /** When the response was received. */
  responseTime: number
}

/**
 * corrected_initial_age = max(apparent_age, corrected_age_value), where apparent_age =
 * max(0, response_time − date_value) and corrected_age_value = age_value + response_delay.
 */
export function initialAgeMs ({ ageS, dateMs, requestTime, responseTime }: AgeInputs): number {
  const apparent = dateMs === undefined ? 0 : Math.max(0, responseTime - dateMs)
  const corrected = ageS * 1_000 + Math.max(0, responseTime - requestTime)
  return Math.max(apparent, corrected)
}

/** current_age = corrected_initial_age + resident_time. */
export function currentAgeMs (initialAge: number, responseTime: number, now: number): number {
  return initialAge + Math.max(0, now - responseTime)
}

/** The `Age` field a cache sends: whole seconds (RFC 9111 §5.1). */
export function ageField (ageMs: number): string {
  return String(Math.floor(ageMs / 1_000))
}
