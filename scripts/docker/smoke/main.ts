/**
 * The checks of the compose smoke test, against a compose project that scripts/docker/smoke.sh
 * has started: what a user would check, through the gateway published on loopback, with Docker
 * as the only other window. Exits non-zero on the first check that fails.
 *
 *   node dist/scripts/docker/smoke/main.js --project nines-smoke [--profile sentinel] [--idle-s 300]
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { topology } from '../../../topology.js'
import { containerPort } from '../../compose.js'
import { commandLine } from '../../cli.js'
import { fillId, leaderEpoch, readmeTour, registryProblems, statusMatches, type RegistryView } from './checks.js'
import { containerCpuMs, daemonsCpuMs, docker, projectContainers, type Container } from './docker.js'

const usage = 'usage: smoke [--project nines-smoke] [--gateway http://127.0.0.1:8080] [--profile sentinel] [--idle-s N]'
const cli = commandLine('smoke', usage, {
  project: { type: 'string', default: 'nines-smoke' },
  gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
  profile: { type: 'string', default: '' },
  'idle-s': { type: 'string' }
})
const project = cli.values.project ?? 'nines-smoke'
const gateway = cli.values.gateway ?? 'http://127.0.0.1:8080'
const sentinel = cli.values.profile === 'sentinel'
if (cli.values.profile !== '' && !sentinel) cli.fail(`unknown profile ${JSON.stringify(cli.values.profile)}`)
const idleS = cli.num(cli.values['idle-s'], '--idle-s', 0, 0, 3_600)
const root = resolve(import.meta.dirname, '../../../..')
const execFileAsync = promisify(execFile)

const t0 = Date.now()
const log = (text: string): void => { process.stdout.write(`smoke +${((Date.now() - t0) / 1000).toFixed(1)}s ${text}\n`) }
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

class CheckFailed extends Error {}
function check (ok: boolean, what: string): asserts ok {
  if (!ok) throw new CheckFailed(what)
}

/** Polls until `ready` returns undefined (done) or the time is up; then fails with its last word. */
async function until (what: string, timeoutMs: number, ready: () => Promise<string | undefined>): Promise<number> {
  const start = Date.now()
  let last = 'not checked'
  while (Date.now() - start < timeoutMs) {
    try {
      const why = await ready()
      if (why === undefined) return Date.now() - start
      last = why
    } catch (err) {
      last = (err as Error).message
    }
    await sleep(250)
  }
  throw new CheckFailed(`${what} not within ${timeoutMs / 1000} s: ${last}`)
}

const agent = new Agent({ connections: 16, keepAliveTimeout: 2_000 })
async function http (method: string, path: string, body?: string): Promise<{ status: number, text: string, headers: Record<string, unknown> }> {
  const headers = body !== undefined && method === 'POST' ? { 'content-type': 'application/json' } : {}
  const res = await request(`${gateway}${path}`, { method: method as 'GET', body, headers, dispatcher: agent, headersTimeout: 15_000, bodyTimeout: 15_000 })
  return { status: res.statusCode, text: await res.body.text(), headers: res.headers }
}
async function registry (): Promise<RegistryView> {
  return JSON.parse((await http('GET', '/registry')).text) as RegistryView
}
const ipsOf = (containers: Container[]): Set<string> => new Set(containers.filter((c) => c.running).flatMap((c) => c.ips))

async function waitReady (timeoutMs: number): Promise<number> {
  return await until('/readyz 200', timeoutMs, async () => {
    const res = await http('GET', '/readyz')
    return res.status === 200 ? undefined : `${res.status} ${res.text.slice(0, 300)}`
  })
}

async function waitRegistry (timeoutMs: number): Promise<number> {
  return await until('every topology instance in /registry at a container address', timeoutMs, async () => {
    const problems = registryProblems(topology, await registry(), ipsOf(await projectContainers(project)), containerPort)
    return problems.length === 0 ? undefined : problems.join('; ')
  })
}

async function waitHealthy (timeoutMs: number): Promise<number> {
  return await until('every container running and healthy', timeoutMs, async () => {
    const bad = (await projectContainers(project)).filter((c) => !c.running || (c.health !== undefined && c.health !== 'healthy'))
    return bad.length === 0 ? undefined : bad.map((c) => `${c.name} ${c.running ? c.health ?? '' : 'not running'}`).join(', ')
  })
}

/** CPU of the project's containers and of the Docker daemons over a quiet window, in % of one core. */
async function idleCpu (windowMs: number): Promise<void> {
  const containers = (await projectContainers(project)).filter((c) => c.running)
  const before = containers.map((c) => containerCpuMs(c.id))
  if (before.some((v) => v === undefined)) {
    log('idle CPU: no cgroup CPU accounting found for the containers; not measured')
    return
  }
  const daemonsBefore = daemonsCpuMs()
  await sleep(windowMs)
  const used = containers.reduce((sum, c, i) => sum + (containerCpuMs(c.id) ?? 0) - (before[i] ?? 0), 0)
  const daemons = daemonsCpuMs() - daemonsBefore
  const pct = (ms: number): string => `${(100 * ms / windowMs).toFixed(1)} %`
  log(`idle CPU over ${windowMs / 1000} s: ${containers.length} containers ${pct(used)} of one core, Docker daemons and healthcheck execs ${pct(daemons)}, together ${pct(used + daemons)} (target ≤ 40 %)`)
}

/** Every curl line of the README's "Try it" section, run by bash as a user would type it. */
async function readmeCurlTour (): Promise<void> {
  const steps = readmeTour(readFileSync(join(root, 'README.md'), 'utf8'))
  check(steps.length > 0, 'the README has curl lines to try')
  const dir = mkdtempSync(join(tmpdir(), 'nines-smoke-'))
  const bodyFile = join(dir, 'body')
  // the README's lines as they are; `curl` records the status and keeps the body for the next line
  const prelude = 'curl () { command curl -sS --max-time 60 -o "$NINES_BODY" -w "%{http_code}" "$@"; }\n'
  let lastId: string | undefined
  try {
    for (const step of steps) {
      const command = fillId(step.command, lastId)
      check(command !== undefined, `no id for ${step.command}`)
      const { stdout } = await execFileAsync('bash', ['-c', prelude + command], { env: { ...process.env, NINES_BODY: bodyFile }, timeout: 90_000 })
      const status = Number(stdout.trim())
      const body = readFileSync(bodyFile, 'utf8')
      check(statusMatches(status, step.expect), `README line \`${step.command}\` answered ${status} (expected ${String(step.expect)}): ${body.slice(0, 300)}`)
      const id = /"id"\s*:\s*"([^"]+)"/.exec(body)?.[1]
      if (id !== undefined) lastId = id
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  log(`README tour: ${steps.length} curl lines answered as expected`)
}

/** `npm run verify` as the README's Docker section runs it: inside the gateway's container. */
async function verifyPairs (): Promise<void> {
  const gw = (await projectContainers(project)).find((c) => c.service === 'gateway' && c.running)
  check(gw !== undefined, 'the gateway container runs')
  try {
    await docker(['exec', gw.id, 'node', 'dist/scripts/verify.js', '--wait-ms', '15000'], 60_000)
  } catch (err) {
    throw new CheckFailed(`verify inside the gateway container failed: ${(err as { stdout?: string }).stdout ?? (err as Error).message}`)
  }
  log('verify: every input has exactly one output per pair, no conflict')
}

interface Tally { sent: number, failed: number, examples: string[] }

/** Loads still running: a failed check stops them before the process ends. */
const loads = new Set<() => Promise<Tally>>()

/** Workers repeating one request until stopped; every failure counted. */
function loop (workers: number, step: (n: number) => Promise<string | undefined>): { stop: () => Promise<Tally> } {
  const tally: Tally = { sent: 0, failed: 0, examples: [] }
  const state = { running: true }
  const worker = async (): Promise<void> => {
    while (state.running) {
      const n = tally.sent++
      let why: string | undefined
      try {
        why = await step(n)
      } catch (err) {
        why = (err as Error).message
      }
      if (why !== undefined) {
        tally.failed += 1
        if (tally.examples.length < 5) tally.examples.push(why)
      }
      await sleep(10)
    }
  }
  const done = Promise.all(Array.from({ length: workers }, worker))
  const stop = async (): Promise<Tally> => {
    state.running = false
    loads.delete(stop)
    await done
    return tally
  }
  loads.add(stop)
  return { stop }
}

/**
 * A crash as a user makes one: kill -9 of the container's main process from the host (`docker
 * kill` would mark the container as stopped by the user, and `restart: unless-stopped` would leave
 * it down). The container must be back, serving and registered, within 30 s.
 */
async function crash (target: Container, isBack: (since: number) => Promise<string | undefined>): Promise<number> {
  const killedAt = Date.now()
  process.kill(target.pid, 'SIGKILL')
  const backMs = await until(`${target.name} back after kill -9`, 30_000, async () => await isBack(killedAt))
  log(`crash: kill -9 of ${target.name}'s main process (pid ${target.pid}); back, serving and registered after ${(backMs / 1000).toFixed(1)} s`)
  return backMs
}

/** The restarted container's instance is in the registry again, healthy, started after the kill. */
async function registeredAgain (service: string, container: Container, since: number): Promise<string | undefined> {
  const now = (await projectContainers(project)).find((c) => c.id === container.id)
  if (now === undefined || !now.running) return 'container not running'
  const instances = (await registry()).services[service] ?? []
  const mine = instances.find((i) => now.ips.includes(new URL(i.url).hostname) && (i.startedAt ?? 0) >= since)
  if (mine === undefined) return 'not registered again yet'
  return mine.healthy === true ? undefined : `${mine.id} registered, not healthy yet`
}

async function crashEcho (): Promise<void> {
  const echo = (await projectContainers(project)).find((c) => c.service === 'echo' && c.running)
  check(echo !== undefined, 'an echo container runs')
  const load = loop(4, async (n) => {
    const res = await http('GET', `/api/echo/smoke-${n}`)
    return res.status === 200 ? undefined : `GET /api/echo: ${res.status} ${res.text.slice(0, 200)}`
  })
  await sleep(1_000)
  await crash(echo, async (since) => await registeredAgain('echo', echo, since))
  await sleep(2_000)
  const tally = await load.stop()
  log(`crash of an echo container: ${tally.failed} of ${tally.sent} idempotent GETs failed`)
  check(tally.failed === 0, `requests failed during the echo crash: ${tally.examples.join('; ')}`)
}

/** The kv-leader leader crashes under PUT+GET load: no request fails, no acknowledged write is lost. */
async function crashKvLeader (): Promise<void> {
  const reg = await registry()
  const leader = (reg.services['kv-leader'] ?? []).find((i) => i.role === 'leader')
  check(leader !== undefined, 'kv-leader has a leader')
  const containers = await projectContainers(project)
  const target = containers.find((c) => c.ips.includes(new URL(leader.url).hostname))
  check(target !== undefined, `a container has ${leader.url}`)
  const epochBefore = leaderEpoch(reg)
  const acknowledged = new Map<string, string>()
  const load = loop(3, async (n) => {
    const key = `smoke-${n}`
    const value = `v${n}-${Date.now()}`
    const put = await http('PUT', `/api/kv-leader/keys/${key}`, value)
    if (put.status >= 300) return `PUT ${key}: ${put.status} ${put.text.slice(0, 200)}`
    acknowledged.set(key, value)
    const get = await http('GET', `/api/kv-leader/keys/${key}`)
    return get.status === 200 && get.text === value ? undefined : `GET ${key}: ${get.status} ${get.text.slice(0, 100)} (wrote ${value})`
  })
  await sleep(1_000)
  await crash(target, async (since) => await registeredAgain('kv-leader', target, since))
  await sleep(2_000)
  const tally = await load.stop()
  let lost = 0
  for (const [key, value] of acknowledged) {
    const res = await http('GET', `/api/kv-leader/keys/${key}`)
    if (res.status !== 200 || res.text !== value) lost += 1
  }
  const epochAfter = leaderEpoch(await registry())
  log(`crash of the kv-leader leader (${leader.id}): ${tally.failed} of ${tally.sent} idempotent PUT/GETs failed, ${lost} of ${acknowledged.size} acknowledged writes lost, epoch ${epochBefore} → ${epochAfter}`)
  check(tally.failed === 0, `requests failed during the kv-leader crash: ${tally.examples.join('; ')}`)
  check(lost === 0, `${lost} acknowledged writes lost`)
}

/** The container of the Redis primary, as the Sentinels name it. */
async function redisPrimary (): Promise<Container> {
  const containers = await projectContainers(project)
  const sentinelContainer = containers.find((c) => c.service.startsWith('redis-sentinel') && c.running)
  check(sentinelContainer !== undefined, 'a Sentinel runs')
  const out = await docker(['exec', sentinelContainer.id, 'redis-cli', '-p', '26379', 'sentinel', 'get-master-addr-by-name', 'nines'])
  const host = out.split('\n')[0]?.trim() ?? ''
  const primary = containers.find((c) => c.running && (c.ips.includes(host) || c.service === host || c.name === host))
  check(primary !== undefined, `the primary ${host} is a container of the project`)
  return primary
}

/**
 * The Sentinel profile: the Redis primary dies twice, once by `docker kill` (it stays down, as the
 * README warns) and once by kill -9 of its main process (Docker restarts it). Each time echo
 * requests go on without a failure, and the cluster takes writes again within 60 s.
 */
async function sentinelFailovers (): Promise<void> {
  for (const how of ['docker kill -s SIGKILL', 'kill -9 of its main process']) {
    const primary = await redisPrimary()
    const echo = loop(2, async (n) => {
      const res = await http('GET', `/api/echo/failover-${n}`)
      return res.status === 200 ? undefined : `${res.status} ${res.text.slice(0, 200)}`
    })
    const writes = loop(2, async () => {
      const res = await http('POST', '/api/feed/events', JSON.stringify({ account: 'smoke', amount: 1 }))
      return res.status === 202 ? undefined : `${res.status}`
    })
    await sleep(1_000)
    const killedAt = Date.now()
    if (how.startsWith('docker')) await docker(['kill', '-s', 'SIGKILL', primary.id])
    else process.kill(primary.pid, 'SIGKILL')
    await sleep(500)
    const writingMs = await until(`a feed write accepted after ${how} of the primary`, 60_000, async () => {
      const res = await http('POST', '/api/feed/events', JSON.stringify({ account: 'smoke', amount: 1 }))
      return res.status === 202 ? undefined : `${res.status}`
    }) + 500
    await waitReady(60_000)
    const e = await echo.stop()
    const w = await writes.stop()
    const now = await redisPrimary()
    log(`sentinel: ${how} of the primary ${primary.name}: writes accepted again after ${(writingMs / 1000).toFixed(1)} s, primary now ${now.name}; ` +
      `echo GETs failed ${e.failed}/${e.sent}, feed POSTs failed ${w.failed}/${w.sent} (a POST is not retried)`)
    check(e.failed === 0, `echo GETs failed during the Redis failover: ${e.examples.join('; ')}`)
    const after = (await projectContainers(project)).find((c) => c.id === primary.id)
    if (how.startsWith('docker')) {
      check(after !== undefined && !after.running, '`docker kill` leaves the container stopped (restart: unless-stopped)')
      await docker(['start', primary.id]) // back, and the Sentinels make it a replica of the new primary
    } else {
      check(after !== undefined && after.running && after.startedAtMs >= killedAt, `${primary.name} restarted by Docker`)
    }
    await waitHealthy(90_000)
  }
  await verifyPairs()
}

/** A quiet cluster for a while: containers unhealthy (each poll) and kv-leader elections, as they happen. */
async function idleWatch (seconds: number): Promise<void> {
  const leaderOf = (view: RegistryView): string => (view.services['kv-leader'] ?? []).find((i) => i.role === 'leader')?.id ?? 'none'
  const first = await registry()
  const epochBefore = leaderEpoch(first)
  let epoch = epochBefore
  let leader = leaderOf(first)
  const unhealthy = new Set<string>()
  const end = Date.now() + seconds * 1000
  while (Date.now() < end) {
    for (const c of await projectContainers(project)) {
      if ((c.health === 'unhealthy' || !c.running) && !unhealthy.has(c.name)) {
        unhealthy.add(c.name)
        log(`idle: ${c.name} ${c.running ? 'unhealthy' : 'not running'}`)
      }
    }
    const view = await registry()
    if (leaderEpoch(view) !== epoch) {
      log(`idle: kv-leader epoch ${epoch} → ${leaderEpoch(view)}, leader ${leader} → ${leaderOf(view)}`)
      epoch = leaderEpoch(view)
      leader = leaderOf(view)
    }
    await sleep(5_000)
  }
  const changes = leaderEpoch(await registry()) - epochBefore
  log(`idle ${seconds} s: ${unhealthy.size} containers unhealthy at some point, ${changes} kv-leader leader changes (targets: 0 and 0)`)
  check(unhealthy.size === 0, 'no container unhealthy while idle')
  check(changes === 0, 'no kv-leader leader change while idle')
}

try {
  log(`ready (/readyz 200) after ${(await waitReady(240_000) / 1000).toFixed(1)} s`)
  log(`registry: every topology instance at a container address after ${(await waitRegistry(60_000) / 1000).toFixed(1)} s`)
  log(`every container healthy after ${(await waitHealthy(120_000) / 1000).toFixed(1)} s`)
  await idleCpu(30_000)
  if (idleS > 0) await idleWatch(idleS)
  if (sentinel) {
    await sentinelFailovers()
  } else {
    await readmeCurlTour()
    await crashEcho()
    await crashKvLeader()
    await verifyPairs()
  }
  await waitRegistry(60_000)
  log(`every container healthy again after ${(await waitHealthy(90_000) / 1000).toFixed(1)} s`)
  log('all checks passed')
} catch (err) {
  process.stdout.write(`smoke: FAILED: ${err instanceof CheckFailed ? err.message : (err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
} finally {
  await Promise.all([...loads].map(async (stop) => await stop()))
  await agent.close()
}
