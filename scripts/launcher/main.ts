import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { topology } from '../../topology.js'
import { buildControlApi } from './control-api.js'
import { planProcesses } from './plan.js'
import { hasRedisServer, installHint, reapStaleRedis, startLocalRedis, type LocalRedis } from './redis.js'
import { redisMode, startLauncherSentinel } from './redis-sentinel.js'
import { Supervisor } from './supervisor.js'
import { Autoscaler } from './autoscale/autoscaler.js'
import { autoscalePolicies } from './autoscale/config.js'
import { createRedis } from '../../shared/src/redis.js'
import { waitUntilReady } from './readiness.js'
import { exitWithParent } from '../../shared/src/service/watch-parent.js'
import { publishEvent } from '../../shared/src/events.js'
import { freePort } from '../../shared/testing/ports.js'
import { controlTokenPath, writeControlToken } from './control-auth.js'
import { commandLine } from '../cli.js'

/**
 * `npm start`: Redis, the gateway and every instance of the topology as local processes,
 * supervised, with a control API on loopback. Ctrl-C stops everything.
 */
const root = resolve(import.meta.dirname, '../../..')
const usage = `usage: npm start -- [--only svc,svc] [--port N] [--control-port N] [--redis single|sentinel] [--redis-port N]
       [--state-dir DIR] [--autoscale svc,svc]
env: PORT, CONTROL_PORT, NINES_SERVICES, NINES_REDIS, REDIS_PORT, REDIS_URL, NINES_STATE_DIR, NINES_AUTOSCALE`
const cli = commandLine('start', usage, {
  only: { type: 'string' },
  port: { type: 'string' },
  'control-port': { type: 'string' },
  'redis-port': { type: 'string' },
  redis: { type: 'string' },
  'state-dir': { type: 'string' },
  autoscale: { type: 'string' }
})
const values = cli.values
const env = process.env
const gatewayPort = cli.num(values.port ?? env.PORT, '--port', topology.gateway.port, 0, 65_535)
const controlPort = cli.num(values['control-port'] ?? env.CONTROL_PORT, '--control-port', 8079, 0, 65_535)
const stateDir = resolve(values['state-dir'] ?? env.NINES_STATE_DIR ?? join(root, '.nines'))
const only = (values.only ?? env.NINES_SERVICES)?.split(',').map((s) => s.trim()).filter(Boolean)
const prefix = env.NINES_PREFIX ?? 'nines'
const autoscaled = (values.autoscale ?? env.NINES_AUTOSCALE)?.split(',').map((s) => s.trim()).filter(Boolean) ?? []
const policies = autoscalePolicies(topology, autoscaled)

const t0 = Date.now()
const print = (id: string, text: string): void => {
  const time = new Date().toISOString().slice(11, 23)
  process.stdout.write(`${time} ${id.padEnd(14)} ${text}\n`)
}

reapStaleRedis(stateDir)
let redis: LocalRedis | undefined
let redisUrl = env.REDIS_URL
if (redisUrl === undefined || redisUrl === '') {
  if (!hasRedisServer()) {
    process.stderr.write(`${installHint}\n`)
    process.exit(1)
  }
  if (redisMode(values.redis, env.NINES_REDIS) === 'sentinel') {
    // a primary, a replica and three Sentinels; every process gets REDIS_URL=redis+sentinel://…
    redis = await startLauncherSentinel(stateDir, (text) => print('redis', text))
  } else {
    const wanted = values['redis-port'] ?? env.REDIS_PORT
    const redisPort = wanted !== undefined ? Number(wanted) : await freePort()
    redis = await startLocalRedis(redisPort, join(stateDir, 'redis'))
  }
  redisUrl = redis.url
  print('redis', `private redis-server at ${redisUrl} (pid ${String(redis.pid())})`)
}

mkdirSync(stateDir, { recursive: true })
const controlToken = writeControlToken(stateDir)
const eventsRedis = createRedis(redisUrl)
eventsRedis.on('error', () => {})
const supervisor = new Supervisor({
  root,
  logDir: join(stateDir, 'logs'),
  env: { REDIS_URL: redisUrl, NINES_PREFIX: prefix },
  print,
  onEvent: (event) => publishEvent(eventsRedis, prefix, { ...event, source: 'launcher' })
})
// the gateway alone gets the launcher's port (and HOST when set): children never inherit them
const gatewayEnv = { PORT: String(gatewayPort), NINES_SERVICES: only?.join(',') ?? '', ...(env.HOST !== undefined && env.HOST !== '' ? { HOST: env.HOST } : {}) }
const plans = planProcesses(topology, only).map((p) => p.service === 'gateway' ? { ...p, env: { ...p.env, ...gatewayEnv } } : p)
const control = buildControlApi(supervisor, topology, redis, controlToken)
let autoscaler: Autoscaler | undefined
let stopping = false
const shutdown = async (signal: string, exitCode = 0): Promise<void> => {
  if (stopping) return
  stopping = true
  print('launcher', `${signal}: stopping every process`)
  autoscaler?.stop()
  await control.close().catch(() => {})
  await supervisor.shutdown()
  eventsRedis.disconnect()
  await redis?.stop()
  print('launcher', 'all stopped')
  process.exit(exitCode)
}
process.on('SIGINT', () => { void shutdown('SIGINT') })
process.on('SIGTERM', () => { void shutdown('SIGTERM') })
// `kill -TERM` of `npm start` reaches npm, which signals its shell, which dies without passing it
// on: we notice our parent is gone instead (as every child does with us)
exitWithParent(process.ppid, () => { void shutdown('parent process gone') }, 500)

await Promise.all(plans.map(async (plan) => await supervisor.add(plan)))
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`
const gatewayId = plans.find((p) => p.service === 'gateway')?.id ?? 'gateway-1'
let readiness = await waitUntilReady(gatewayUrl, gatewayId, 15_000)
if (readiness.state === 'impostor') {
  print('launcher', `ERROR ${readiness.reason}`)
  await shutdown('the gateway cannot listen', 1)
}
if (readiness.state === 'waiting') print('launcher', `warn: the gateway is not ready yet: ${readiness.reason}`)
const controlUrl = await control.listen({ host: '127.0.0.1', port: controlPort })
writeFileSync(join(stateDir, 'cluster.json'), JSON.stringify({ gatewayUrl, controlUrl, controlTokenFile: controlTokenPath(stateDir), redisUrl, redisPid: redis?.pid(), launcherPid: process.pid }, null, 2))

const lines = [
  '',
  `nines is up in ${((Date.now() - t0) / 1000).toFixed(1)} s — ${plans.length} processes`,
  `  gateway   ${gatewayUrl}   (try: curl ${gatewayUrl}/api/echo/hello)`,
  `  registry  ${gatewayUrl}/registry   metrics ${gatewayUrl}/metrics`,
  `  control   ${controlUrl}   (npm run ctl -- list | kill <id> | stop <id> | cont <id> | restart <id> | scale <service> <n>)`,
  `            token in ${controlTokenPath(stateDir)} (npm run ctl reads it)`,
  `  redis     ${redisUrl}`,
  `  logs      ${join(stateDir, 'logs')}/<id>.log`,
  '',
  ...supervisor.list().map((p) => `  ${p.id.padEnd(14)} ${p.service.padEnd(10)} pid ${String(p.pid).padEnd(8)} ${p.url ?? ''}`),
  '',
  'Ctrl-C stops everything.',
  ''
]
process.stdout.write(lines.join('\n'))
if (policies.size > 0) {
  autoscaler = new Autoscaler({ supervisor, topology, gatewayUrl, policies, redis: eventsRedis, prefix, print })
  autoscaler.start()
  for (const [service, p] of policies) print('autoscaler', `${service}: ${p.min}–${p.max} instances, target p99 ${p.targetP99Ms} ms (up after ${p.upWindowMs} ms, down after ${p.downWindowMs} ms quiet, cooldown ${p.cooldownMs} ms)`)
}
// "cluster ready" only once the gateway itself says so
while (readiness.state === 'waiting') {
  if (stopping) break
  readiness = await waitUntilReady(gatewayUrl, gatewayId, 15_000)
}
if (readiness.state === 'impostor') {
  print('launcher', `ERROR ${readiness.reason}`)
  await shutdown('the gateway cannot listen', 1)
}
if (!stopping) print('launcher', 'cluster ready')
