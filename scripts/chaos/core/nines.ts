/**
 * Success rates as nines, and what a number of nines allows as downtime. Pure.
 *
 * Counting is done on failures / total rather than on `1 - rate`, because `1 - 0.999` is not
 * exactly 0.001 in floating point and would count as 2 nines.
 */

/** How many leading nines a success rate has: 99.95% → 3, 99.991% → 4, 90% → 1, 85% → 0. */
export function ninesOf (failed: number, total: number): number {
  if (total <= 0) return 0
  if (failed <= 0) return Infinity
  if (failed >= total) return 0
  // the epsilon absorbs log10's rounding at exact powers of ten (1 in 1,000 is 3 nines, not 2.999…)
  return Math.max(0, Math.floor(-Math.log10(failed / total) + 1e-9))
}

/**
 * The rate as a percentage, truncated (never rounded up: 99.99996% must not print as 100%) to
 * enough decimals to show every nine plus one more digit.
 */
export function formatPercent (ok: number, total: number): string {
  if (total <= 0) return 'n/a'
  if (ok >= total) return '100%'
  const nines = ninesOf(total - ok, total)
  const decimals = Math.max(1, Math.min(nines, 10) - 1)
  // exact integer arithmetic: floating point would print 99.99999999% as 99.999999989%
  const scaled = (BigInt(ok) * 100n * 10n ** BigInt(decimals)) / BigInt(total)
  const digits = scaled.toString().padStart(decimals + 1, '0')
  const truncated = `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`
  // a trailing zero says nothing (exactly 1 in 10^6 failed is 99.9999%, not 99.99990%)
  return `${truncated.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '.0')}%`
}

/**
 * `99.991% (4 nines)`. With no failure the run can only vouch for as many nines as it had
 * requests to resolve them: 0 failures in 12,000 requests is `100% (0 of 12000 failed: ≥ 4 nines measurable)`.
 */
export function formatNines (ok: number, total: number): string {
  if (total <= 0) return 'n/a (no requests)'
  const failed = total - ok
  if (failed <= 0) return `100% (0 of ${total} failed: ≥ ${measurableNines(total)} nines measurable)`
  const nines = ninesOf(failed, total)
  return `${formatPercent(ok, total)} (${nines} nine${nines === 1 ? '' : 's'})`
}

/** The most nines a run of `total` requests can show: one failure in `total` is log10(total) nines. */
export function measurableNines (total: number): number {
  return total <= 0 ? 0 : Math.floor(Math.log10(total) + 1e-9)
}

const dayMs = 86_400_000
/** The downtime a success rate allows, in ms, per day, month (30 days) and year (365 days). */
export function downtimeAllowed (rate: number): { perDayMs: number, perMonthMs: number, perYearMs: number } {
  const down = Math.min(1, Math.max(0, 1 - rate))
  return { perDayMs: down * dayMs, perMonthMs: down * 30 * dayMs, perYearMs: down * 365 * dayMs }
}

/** A duration for people: `8.64 s`, `43.2 min`, `8.77 h`, `3.65 d`, `864 ms`. */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms)) return '∞'
  const abs = Math.abs(ms)
  const fmt = (v: number): string => String(Number(v.toPrecision(3)))
  if (abs < 1_000) return `${fmt(ms)} ms`
  if (abs < 60_000) return `${fmt(ms / 1_000)} s`
  if (abs < 3_600_000) return `${fmt(ms / 60_000)} min`
  if (abs < dayMs) return `${fmt(ms / 3_600_000)} h`
  return `${fmt(ms / dayMs)} d`
}

export interface DowntimeRow { nines: number, rate: string, perDay: string, perMonth: string, perYear: string }

/** The classic table: for 1 to `upTo` nines, the downtime allowed per day, month and year. */
export function downtimeTable (upTo = 6): DowntimeRow[] {
  const rows: DowntimeRow[] = []
  for (let n = 1; n <= upTo; n++) {
    const d = downtimeAllowed(1 - 10 ** -n)
    rows.push({ nines: n, rate: `${(100 - 10 ** (2 - n)).toFixed(Math.max(0, n - 2))}%`, perDay: formatDuration(d.perDayMs), perMonth: formatDuration(d.perMonthMs), perYear: formatDuration(d.perYearMs) })
  }
  return rows
}

/** The same for one measured rate: what this run's success rate would mean over a day, month and year. */
export function downtimeFor (ok: number, total: number): { perDay: string, perMonth: string, perYear: string } {
  const d = downtimeAllowed(total <= 0 ? 1 : ok / total)
  return { perDay: formatDuration(d.perDayMs), perMonth: formatDuration(d.perMonthMs), perYear: formatDuration(d.perYearMs) }
}
