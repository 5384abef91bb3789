import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { commandLine } from '../cli.js'
import autocannon from 'autocannon'
import { assertLoopback, fetchRegistry, notInCluster, resolveCluster, servicesPresent } from '../chaos/adapters/cluster.js'
import { scenarios, type ScenarioContext } from './scenarios.js'

/**
 * `npm run load [-- --duration 10 --connections 50 --pipelining 1 --scenario echo,kv-leader-mix]`:
 * autocannon against the running cluster, one scenario after the other; a scenario whose service
 * is not in the registry is skipped. Prints req/s, latency and every error and non-2xx answer,
 * loudly, and writes reports/load-<time>.json. Exit 1 when a scenario had errors or non-2xx
 * (unless --allow-errors), 2 when the cluster cannot be reached.
 */
const usage = `usage: npm run load -- [--url GATEWAY] [--duration S] [--connections N] [--pipelining N]
       [--scenario a,b] [--write-ratio 0.5] [--keys N] [--out DIR] [--allow-errors]
env: LOAD_URL (or NINES_GATEWAY_URL), DURATION, CONNECTIONS, PIPELINING, SCENARIOS, WRITE_RATIO
scenarios: ${scenarios.map((s) => s.name).join(', ')}`

const cli = commandLine('load', usage, {
  url: { type: 'string' },
  duration: { type: 'string' },
  connections: { type: 'string' },
  pipelining: { type: 'string' },
  scenario: { type: 'string' },
  'write-ratio': { type: 'string' },
  keys: { type: 'string' },
  out: { type: 'string' },
  'state-dir': { type: 'string' },
  'allow-errors': { type: 'boolean', default: false }
})
const values = cli.values
// annotated so that TypeScript knows a call to it ends the program
const fail: (message: string) => never = cli.fail
const num = cli.num
const env = process.env
const durationS = num(values.duration ?? env.DURATION, '--duration', 10, 1, 3_600)
const connections = num(values.connections ?? env.CONNECTIONS, '--connections', 50, 1, 10_000)
const pipelining = num(values.pipelining ?? env.PIPELINING, '--pipelining', 1, 1, 100)
const writeRatio = num(values['write-ratio'] ?? env.WRITE_RATIO, '--write-ratio', 0.5, 0, 1)
const keyCount = num(values.keys, '--keys', 100, 1, 100_000)
const wanted = (values.scenario ?? env.SCENARIOS)?.split(',').map((s) => s.trim()).filter(Boolean)
for (const name of wanted ?? []) if (!scenarios.some((s) => s.name === name)) fail(`unknown scenario "${name}"`)
let gatewayUrl: string
try {
  gatewayUrl = resolveCluster({ gateway: values.url ?? env.LOAD_URL, stateDir: values['state-dir'] }).gatewayUrl
} catch (err) {
  fail((err as Error).message)
}

let registry
try {
  registry = await fetchRegistry(gatewayUrl)
} catch (err) {
  process.stderr.write(`load: cannot read ${gatewayUrl}/registry: ${(err as Error).message}\n(is the cluster up? npm start)\n`)
  process.exit(2)
}
const present = servicesPresent(registry)
const echoDirect = registry.echo?.find((i) => i.healthy)?.url
if (echoDirect !== undefined) assertLoopback(echoDirect)
const ctx: ScenarioContext = { gatewayUrl, writeRatio, keyCount, ...(echoDirect !== undefined ? { echoDirectUrl: echoDirect } : {}) }

interface Row {
  scenario: string
  status: 'ran' | 'skipped' | 'failed'
  reason?: string
  rps?: number
  p50?: number
  p90?: number
  p99?: number
  max?: number
  requests?: number
  errors?: number
  timeouts?: number
  non2xx?: number
  statusCodes?: Record<string, number>
}
const rows: Row[] = []
process.stdout.write(`load: ${durationS} s per scenario, ${connections} connections, pipelining ${pipelining}, against ${gatewayUrl} (node ${process.version})\n`)
for (const scenario of scenarios) {
  if (wanted !== undefined && !wanted.includes(scenario.name)) continue
  if (!present.has(scenario.service) || (scenario.name === 'echo-direct' && echoDirect === undefined)) {
    rows.push({ scenario: scenario.name, status: 'skipped', reason: notInCluster })
    process.stdout.write(`  ${scenario.name}: ${notInCluster}\n`)
    continue
  }
  try {
    await scenario.prepare?.(ctx)
    process.stdout.write(`  ${scenario.name}: ${scenario.description}…\n`)
    const result = await autocannon({ ...scenario.target(ctx), connections, pipelining, duration: durationS })
    const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]))
    rows.push({
      scenario: scenario.name,
      status: 'ran',
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      requests: result.requests.total,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      statusCodes
    })
    if (result.errors + result.timeouts + result.non2xx > 0) {
      process.stderr.write(`\n!!! ${scenario.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers (status codes: ${JSON.stringify(statusCodes)})\n\n`)
    }
  } catch (err) {
    rows.push({ scenario: scenario.name, status: 'failed', reason: (err as Error).message })
    process.stderr.write(`\n!!! ${scenario.name} failed: ${(err as Error).message}\n\n`)
  }
}

const cell = (v: number | undefined): string => v === undefined ? '-' : String(v)
const header = ['scenario', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'requests', 'errors', 'timeouts', 'non-2xx']
const table = rows.map((r) => r.status === 'ran'
  ? [r.scenario, cell(r.rps), cell(r.p50), cell(r.p90), cell(r.p99), cell(r.max), cell(r.requests), cell(r.errors), cell(r.timeouts), cell(r.non2xx) + ((r.non2xx ?? 0) + (r.errors ?? 0) + (r.timeouts ?? 0) > 0 ? '  <-- ERRORS' : '')]
  : [r.scenario, r.reason ?? r.status, '', '', '', '', '', '', '', ''])
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)))
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
const direct = rows.find((r) => r.scenario === 'echo-direct' && r.status === 'ran')
const proxied = rows.find((r) => r.scenario === 'echo' && r.status === 'ran')
const ratio = direct?.rps !== undefined && proxied?.rps !== undefined && direct.rps > 0 ? proxied.rps / direct.rps : undefined
process.stdout.write(['', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...table.map(line), ''].join('\n'))
if (ratio !== undefined) process.stdout.write(`gateway overhead: echo through the gateway (3 instances) / one instance direct = ${ratio.toFixed(2)}\n`)

const report = { tool: 'nines load', startedAt: new Date().toISOString(), gatewayUrl, node: process.version, durationS, connections, pipelining, writeRatio, scenarios: rows, echoGatewayOverDirect: ratio }
const outDir = resolve(values.out ?? env.NINES_REPORTS_DIR ?? 'reports')
mkdirSync(outDir, { recursive: true })
const file = join(outDir, `load-${report.startedAt.replace(/[:.]/g, '-')}.json`)
writeFileSync(file, JSON.stringify(report, null, 2) + '\n')
process.stdout.write(`report: ${file}\n`)
const bad = rows.filter((r) => r.status === 'failed' || (r.errors ?? 0) + (r.timeouts ?? 0) + (r.non2xx ?? 0) > 0)
if (bad.length > 0) {
  process.stderr.write(`load: ${bad.length} scenario(s) had errors: ${bad.map((r) => r.scenario).join(', ')}${values['allow-errors'] === true ? ' (allowed by --allow-errors)' : ''}\n`)
  if (values['allow-errors'] !== true) process.exitCode = 1
}
