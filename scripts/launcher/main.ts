import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
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
import { publishEvent } from '../../shared/src/events.js'
import { freePort } from './ports.js'

/**
 * `npm start`: Redis, the gateway and every instance of the topology as local processes,
 * supervised, with a control API on loopback. Ctrl-C stops everything.
 */
const root = resolve(import.meta.dirname, '../../..')
const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    port: { type: 'string' },
    'control-port': { type: 'string' },
    'redis-port': { type: 'string' },
    redis: { type: 'string' },
    'state-dir': { type: 'string' },
    autoscale: { type: 'string' }
  },
  allowPositionals: false
})
const env = process.env
const gatewayPort = Number(values.port ?? env.PORT ?? topology.gateway.port)
const controlPort = Number(values['control-port'] ?? env.CONTROL_PORT ?? 8079)
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
const eventsRedis = createRedis(redisUrl)
eventsRedis.on('error', () => {})
const supervisor = new Supervisor({
  root,
  logDir: join(stateDir, 'logs'),
  env: { REDIS_URL: redisUrl, NINES_PREFIX: prefix },
  print,
  onEvent: (event) => publishEvent(eventsRedis, prefix, { ...event, source: 'launcher' })
})
const plans = planProcesses(topology, only).map((p) => p.service === 'gateway' ? { ...p, env: { ...p.env, PORT: String(gatewayPort), NINES_SERVICES: only?.join(',') ?? '' } } : p)
const control = buildControlApi(supervisor, topology, redis)
let autoscaler: Autoscaler | undefined
let stopping = false
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return
  stopping = true
  print('launcher', `${signal}: stopping every process`)
  autoscaler?.stop()
  await control.close().catch(() => {})
  await supervisor.shutdown()
  eventsRedis.disconnect()
  await redis?.stop()
  print('launcher', 'all stopped')
  process.exit(0)
}
process.on('SIGINT', () => { void shutdown('SIGINT') })
process.on('SIGTERM', () => { void shutdown('SIGTERM') })

await Promise.all(plans.map(async (plan) => await supervisor.add(plan)))
const readiness = await waitUntilReady(`http://127.0.0.1:${gatewayPort}/readyz`, 15_000)
if (readiness !== 'ready') print('launcher', `warn: the gateway is not ready yet: ${readiness}`)
const controlUrl = await control.listen({ host: '127.0.0.1', port: controlPort })
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`
writeFileSync(join(stateDir, 'cluster.json'), JSON.stringify({ gatewayUrl, controlUrl, redisUrl, redisPid: redis?.pid(), launcherPid: process.pid }, null, 2))

const lines = [
  '',
  `nines is up in ${((Date.now() - t0) / 1000).toFixed(1)} s — ${plans.length} processes`,
  `  gateway   ${gatewayUrl}   (try: curl ${gatewayUrl}/api/echo/hello)`,
  `  registry  ${gatewayUrl}/registry   metrics ${gatewayUrl}/metrics`,
  `  control   ${controlUrl}   (npm run ctl -- list | kill <id> | stop <id> | cont <id> | restart <id> | scale <service> <n>)`,
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
print('launcher', 'cluster ready')
