/**
 * HTTP-date (RFC 9110 §5.6.7): the preferred IMF-fixdate and the two obsolete forms a recipient
 * must accept (RFC 850 and asctime). Anything else — other zones, two-digit years outside
 * RFC 850, missing commas, doubled spaces, one-digit hours, several field lines — is invalid.
 * Names are matched without regard to case (a lenient reading most caches share).
 */
const days = 'mon|tue|wed|thu|fri|sat|sun'
const longDays = 'monday|tuesday|wednesday|thursday|friday|saturday|sunday'
const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const months = monthNames.join('|')

const imfFixdate = new RegExp(`^(?:${days}), (\\d{2}) (${months}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) gmt$`, 'i')
const rfc850 = new RegExp(`^(?:${longDays}), (\\d{2})-(${months})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) gmt$`, 'i')
const asctime = new RegExp(`^(?:${days}) (${months}) ([ \\d]\\d) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})$`, 'i')

/** Epoch ms of an HTTP-date, or undefined. `now` places an RFC 850 two-digit year (§5.6.7). */
export function parseHttpDate (value: string | string[] | number | undefined, now: number): number | undefined {
  if (value === undefined || Array.isArray(value)) return undefined
  const text = String(value)
  let m = imfFixdate.exec(text)
  if (m !== null) return build(Number(m[3]), m[2] as string, Number(m[1]), m[4] as string, m[5] as string, m[6] as string)
  m = rfc850.exec(text)
  if (m !== null) return build(fullYear(Number(m[3]), now), m[2] as string, Number(m[1]), m[4] as string, m[5] as string, m[6] as string)
  m = asctime.exec(text)
  if (m !== null) return build(Number(m[6]), m[1] as string, Number((m[2] as string).trim()), m[3] as string, m[4] as string, m[5] as string)
  return undefined
}

/** Formats epoch ms as an IMF-fixdate. */
export function formatHttpDate (ms: number): string {
  return new Date(ms).toUTCString()
}

/** A two-digit year more than 50 years in the future is the most recent past year with those digits. */
function fullYear (twoDigits: number, now: number): number {
  const current = new Date(now).getUTCFullYear()
  let year = Math.floor(current / 100) * 100 + twoDigits
  if (year > current + 50) year -= 100
  return year
}

function build (year: number, month: string, day: number, hh: string, mm: string, ss: string): number | undefined {
  const mon = monthNames.indexOf(month.toLowerCase())
  const h = Number(hh)
  const min = Number(mm)
  const s = Number(ss)
  if (day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return undefined
  const ms = Date.UTC(year, mon, day, h, min, s)
  return Number.isFinite(ms) ? ms : undefined
}
