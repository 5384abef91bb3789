import type { Spread } from './measures.js'
import type { RedisChaosReport } from './run.js'

const ms = (s: Spread): string => s.samples === 0 ? 'none' : `p50 ${s.p50Ms} / p99 ${s.p99Ms} / max ${s.maxMs} ms (${s.samples})`

/** The Redis failover run's report as Markdown (printed, and saved beside the JSON). */
export function formatRedisReport (r: RedisChaosReport): string {
  const lines: string[] = []
  const lost = r.acknowledgedThenLost
  const reg = r.epochRegressions
  lines.push(`# Redis failover chaos: ${r.ok ? 'nothing acknowledged was lost, every availability bound met' : 'FAILED'}`, '')
  lines.push(`\`${r.command}\` — ${r.startedAt}, Node ${r.node}, ${r.faults.length} faults`, '')
  lines.push('## Failover', '')
  lines.push('| faults | fault → new primary (Sentinels) | fault → first acknowledged write |', '|---|---|---|')
  lines.push(`| all | ${ms(r.failover.promotion)} | ${ms(r.failover.firstAcknowledgedWrite)} |`)
  for (const [kind, s] of Object.entries(r.failover.byKind)) lines.push(`| ${kind} | ${ms(s.promotion)} | ${ms(s.firstAcknowledgedWrite)} |`)
  lines.push('')
  lines.push(`## Per workload (error-window bound: slowest failover + 1 s = ${r.errorWindowBoundMs} ms)`, '')
  lines.push('| workload | requests | failed | longest error window | within bound | failures |', '|---|---|---|---|---|---|')
  for (const w of r.workloads) {
    const causes = Object.entries(w.failuresByCause).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ×${n}`).join(', ')
    lines.push(`| ${w.name}${w.idempotent ? ' (idempotent)' : ''} | ${w.requests} | ${w.failed} | ${w.longestErrorWindowMs} ms | ${w.withinBound ? 'yes' : 'NO'} | ${causes || '—'} |`)
  }
  if (r.availabilityMisses.length > 0) lines.push('', 'Availability bounds not met:', ...r.availabilityMisses.map((m) => `- ${m}`))
  lines.push('')
  lines.push('## Acknowledged, then lost', '')
  lines.push('| what | acknowledged | lost |', '|---|---|---|')
  lines.push(`| feed events (202/200) | ${lost.feedAcknowledged} | ${lost.feedEvents} |`)
  lines.push(`| compute jobs (202) | ${lost.jobsAcknowledged} | ${lost.jobs}${lost.jobsNotDone > 0 ? ` (${lost.jobsNotDone} not done yet)` : ''} |`)
  lines.push(`| sink outputs (confirmed output counts that went back, + inputs left without an output) | ${r.verify.reduce((n, p) => n + p.outputs, 0)} stored | ${lost.sinkOutputs} |`)
  if (lost.examples.length > 0) lines.push('', `e.g. ${lost.examples.join(', ')}`)
  lines.push('')
  lines.push('## Duplicates and epochs', '')
  lines.push(`- feed events appended twice: ${r.duplicates.feedAppends}`)
  lines.push(`- outputs stored twice: ${r.duplicates.outputsStored}; conflicting outputs: ${r.duplicates.conflicts}`)
  lines.push(`- epoch regressions over ${reg.samples} confirmed samples: hot-warm at the sink ${reg.hotWarmSink}, accepted ${reg.hotWarmAccepted}, hot-warm lease counter ${reg.hotWarmLease}, kv-leader lease counter ${reg.kvLeaderLease}`)
  lines.push('')
  lines.push('## Pairs verify', '')
  for (const p of r.verify) lines.push(`- ${p.pair}: ${p.inputs} inputs, ${p.outputs} outputs, missing ${p.missing}, acknowledged without an output ${p.ackedMissing} of ${p.acked}, wrong ${p.wrong}, extra ${p.extra}, conflicts ${p.conflicts}, duplicates stored ${p.duplicatesStored}: ${p.ok ? 'ok' : 'FAILED'}`)
  lines.push('')
  lines.push('## Faults', '')
  lines.push('| at | kind | primary | new primary after | first acknowledged write after |', '|---|---|---|---|---|')
  for (const f of r.faults) {
    lines.push(`| ${(f.atMs / 1_000).toFixed(1)} s | ${f.kind} | :${f.oldPrimary} → :${f.newPrimary ?? '?'} | ${f.promotionMs !== undefined ? `${Math.round(f.promotionMs)} ms` : 'no failover'} | ${f.firstAckMs !== undefined ? `${f.firstAckMs} ms` : 'none'}${f.error !== undefined ? ` (${f.error})` : ''} |`)
  }
  return lines.join('\n') + '\n'
}
