import { formatBound } from './core/bounds.js'
import { downtimeTable } from './core/nines.js'
import type { ChaosReport, FailoverStat } from './report.js'

/** Plain-text and Markdown renderings of a chaos report. Pure. */

function table (header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)]
}

function mdTable (header: string[], rows: string[][]): string[] {
  const esc = (s: string): string => s.replace(/\|/g, '\\|')
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)]
}

function workloadRows (report: ChaosReport): string[][] {
  return report.workloads.map((w) => w.status === 'skipped'
    ? [w.name, '-', '-', '-', w.reason ?? 'skipped', '-', '-', '-']
    : [
        w.name + (w.idempotent ? ' *' : ''),
        String(w.requests),
        String(w.failed),
        `${w.rate}/s`,
        w.nines,
        w.latencyMs === undefined ? '-' : `${w.latencyMs.p50} / ${w.latencyMs.p99} / ${w.latencyMs.max}`,
        w.longestFailureWindow === undefined ? '-' : `${Math.round(w.longestFailureWindow.durationMs)} ms (${w.longestFailureWindow.count})`,
        w.failuresByCause.slice(0, 3).map((c) => `${c.cause} ×${c.count}`).join(', ') || '-'
      ])
}

const workloadHeader = ['workload', 'requests', 'failed', 'rate', 'success', 'latency ms p50 / p99 / max', 'longest failure window', 'failures by cause']

function failoverRow (name: string, s: FailoverStat): string[] {
  if (s.samples === 0) return [name, '0', s.missing > 0 ? String(s.missing) : '0', '-', '-', s.note ?? (s.missing > 0 ? 'the awaited event never came' : '-')]
  return [name, String(s.samples), String(s.missing), `${String(s.p50Ms)} ms`, `${String(s.p99Ms)} ms`, `max ${String(s.maxMs)} ms`]
}

function failoverRows (report: ChaosReport): string[][] {
  return [
    failoverRow('hot-warm takeover (kill → first output of the new hot at the sink)', report.failover.hotWarmTakeover),
    failoverRow('hot-warm role change (kill → other instance hot in the registry)', report.failover.hotWarmRoleChange),
    failoverRow('kv-leader election (kill → first acked write)', report.failover.kvLeaderElection),
    failoverRow('gateway ejection (kill → last failed request)', report.failover.gatewayEjection)
  ]
}
const failoverHeader = ['failover', 'samples', 'missing', 'p50', 'p99', 'note']

const boundHeader = ['bound', 'requests', 'failed (late)', 'served', 'bound', 'result']

function boundRows (report: ChaosReport): string[][] {
  return report.bounds.map((b) => [
    `${b.name} (${b.what})`,
    String(b.requests),
    `${b.failed} (${b.late})`,
    b.successRate,
    formatBound(b),
    b.met === null ? 'not run' : b.met ? 'met' : `NOT MET (${b.allowedFailures} failures allowed)`
  ])
}

function verdictLines (report: ChaosReport): string[] {
  if (report.ok) return ['chaos: every invariant held, every bound was met, every failover recovered']
  return ['chaos: FAILED (exit 1)', ...report.problems.map((p) => `  - ${p}`)]
}

function faultRows (report: ChaosReport): string[][] {
  return report.faults.map((f) => [`${(f.atMs / 1_000).toFixed(1)} s`, f.kind, f.target ?? f.service ?? '', f.skipped !== undefined ? `skipped: ${f.skipped}` : f.kind === 'freeze' || f.kind === 'restart' || f.kind === 'redis-restart' ? `${Math.round(f.endMs - f.atMs)} ms` : ''])
}

export function formatConsole (report: ChaosReport): string {
  const out: string[] = [
    '',
    `nines chaos — ${report.durationS} s, seed ${report.seed}, ${report.faults.filter((f) => f.skipped === undefined).length} faults, gateway ${report.gatewayUrl}`,
    `replay: ${report.command}`,
    '',
    ...table(workloadHeader, workloadRows(report)),
    '(* idempotent workload)',
    '',
    `overall     ${report.overall.nines}   (${report.overall.failed} of ${report.overall.requests} failed)`,
    `idempotent  ${report.idempotent.nines}   (GET requests of every workload)`,
    '',
    ...table(failoverHeader, failoverRows(report)),
    '',
    `availability (served = the contract's answer within the ${report.deadlineMs} ms deadline):`,
    ...(report.bounds.length === 0 ? ['  (no bounds)'] : table(boundHeader, boundRows(report))),
    '',
    'invariants:',
    ...report.invariants.map((i) => `  ${i.status === 'ok' ? 'OK  ' : i.status === 'violated' || i.status === 'error' || (i.status === 'inconclusive' && !report.allowInconclusive) ? 'FAIL' : '--  '} ${i.name}: ${i.status === 'ok' || i.status === 'violated' || i.detail.startsWith(i.status) ? '' : i.status + ' — '}${i.detail}`),
    ...report.invariants.flatMap((i) => (i.examples ?? []).slice(0, 5).map((e) => `         ${e}`)),
    '',
    ...verdictLines(report),
    ''
  ]
  return out.join('\n')
}

export function formatMarkdown (report: ChaosReport): string {
  const out: string[] = [
    `# Chaos run ${report.startedAt}`,
    '',
    `${report.durationS} s of open-loop mixed load through \`${report.gatewayUrl}\` with seed ${report.seed} (node ${report.node}); services present: ${report.servicesPresent.join(', ') || 'none'}.`,
    '',
    `Replay: \`${report.command}\``,
    '',
    '## Success rate per workload',
    '',
    ...mdTable(workloadHeader, workloadRows(report)),
    '',
    '\\* idempotent workload (every request a GET).',
    '',
    `- Overall: **${report.overall.nines}** (${report.overall.failed} of ${report.overall.requests} failed)`,
    `- Idempotent (GET) requests: **${report.idempotent.nines}**`,
    '',
    '## Failover times',
    '',
    ...mdTable(failoverHeader, failoverRows(report)),
    '',
    '## Availability bounds',
    '',
    `Served: the contract's answer within the client's ${report.deadlineMs} ms deadline (a later answer counts as a failure).`,
    '',
    ...(report.bounds.length === 0 ? ['(no bounds)'] : mdTable(boundHeader, boundRows(report))),
    '',
    '## Invariants',
    '',
    ...mdTable(['invariant', 'status', 'detail'], report.invariants.map((i) => [i.name, i.status, i.detail])),
    ...report.invariants.flatMap((i) => (i.examples ?? []).length > 0 ? ['', `Examples (${i.name}):`, '', ...(i.examples ?? []).slice(0, 10).map((e) => `- ${e}`)] : []),
    '',
    '## Faults injected',
    '',
    ...mdTable(['at', 'fault', 'target', 'lasted / note'], faultRows(report)),
    '',
    '## What the nines mean',
    '',
    ...mdTable(['nines', 'success rate', 'downtime per day', 'per month', 'per year'], downtimeTable(5).map((r) => [String(r.nines), r.rate, r.perDay, r.perMonth, r.perYear])),
    '',
    report.ok ? '**Result: every invariant held, every bound was met, every failover recovered.**' : `**Result: FAILED.**\n\n${report.problems.map((p) => `- ${p}`).join('\n')}`,
    ''
  ]
  return out.join('\n')
}
