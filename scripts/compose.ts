import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { builtEntry, instanceSpecs, topology, type Topology } from '../topology.js'

/** Port every instance listens on inside its container (the healthcheck needs to know it). */
export const containerPort = 3000

const header = `# Generated from topology.ts by \`npm run compose\`. Do not edit by hand:
# test/unit/compose.test.ts fails when this file drifts from the topology.
`

/**
 * Healthcheck timing. Docker runs every check as a process exec'd into the container, and an exec
 * costs ~45 ms of CPU in dockerd, containerd and runc whatever the command (measured on a 2-core
 * machine): 21 containers checked every 10 s cost ~10 % of one core. Nothing routes on these
 * checks (the gateway checks every instance itself every 500 ms): they are for `docker compose ps`
 * and orchestration, so every 30 s is enough (~3 %). The first check runs one interval after the
 * start (Docker 20.10 has no start_interval); the start period covers a slow boot on two cores,
 * and the timeout is generous because a loaded machine can stall a container for seconds.
 */
export const healthcheckTiming = { interval: '30s', timeout: '5s', retries: 3, startPeriod: '60s' } as const
/**
 * `redis` is what every other container waits for (`service_healthy`), and Docker runs the first
 * check one interval after the start: a shorter interval for it starts the cluster sooner.
 */
export const redisHealthcheckTiming = { interval: '5s', timeout: '5s', retries: 10, startPeriod: '30s' } as const

/**
 * A Node service's check: bash (in every Debian-based image, node:24-slim included) sends
 * `GET /healthz` over /dev/tcp and wants a 200. No Node process starts for it (`node -e fetch(...)`
 * cost ~0.2 s of CPU per check); the answer still comes from the service's own event loop, so a
 * frozen process fails it. `$$` is compose's escape for a literal `$`.
 */
export function httpHealthcheckTest (port: number): string[] {
  const script = `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && read -r status <&3 && [[ $$status == *' 200 '* ]]`
  return ['CMD', 'bash', '-c', script]
}

/** A Redis or Sentinel container's check: `redis-cli ping`, a small C program in the image. */
export function redisHealthcheckTest (port?: number): string[] {
  return ['CMD', 'redis-cli', ...(port === undefined ? [] : ['-p', String(port)]), 'ping']
}

function healthcheckBlock (test: string[], timing: { interval: string, timeout: string, retries: number, startPeriod: string }): string[] {
  return [
    '    healthcheck:',
    `      test: ${JSON.stringify(test).replaceAll('","', '", "')}`,
    `      interval: ${timing.interval}`,
    `      timeout: ${timing.timeout}`,
    `      retries: ${timing.retries}`,
    `      start_period: ${timing.startPeriod}`
  ]
}

/** A Redis or Sentinel container's healthcheck and its restart policy. */
function redisHealthcheck (port?: number, timing: typeof healthcheckTiming | typeof redisHealthcheckTiming = healthcheckTiming): string[] {
  return [...healthcheckBlock(redisHealthcheckTest(port), timing), '    restart: unless-stopped']
}

function healthcheck (port: number): string[] {
  return healthcheckBlock(httpHealthcheckTest(port), healthcheckTiming)
}

function environment (env: Record<string, string>): string[] {
  return ['    environment:', ...Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)]
}

const sentinels = ['redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3']

/**
 * Shell lines that set MASTER to the primary the Sentinels know (empty when none answers: the
 * first start, or no Sentinel profile). `$$` is compose's escape for a literal `$`.
 */
function askSentinels (except?: string): string[] {
  return [
    'MASTER=""',
    `for s in ${sentinels.filter((s) => s !== except).join(' ')}; do`,
    '  MASTER=$$(redis-cli -h $$s -p 26379 --raw sentinel get-master-addr-by-name nines 2>/dev/null | head -n 1 || true)',
    '  [ -n "$$MASTER" ] && break',
    'done'
  ]
}

/** A `command:` running a shell script, as a YAML block so the file stays readable. */
function shellCommand (lines: string[]): string[] {
  return ['    command:', '      - sh', '      - -c', '      - |', ...lines.map((l) => `        ${l}`)]
}

/**
 * A Redis data node (`redis`, or `redis-replica` of the Sentinel profile). It never decides
 * alone that it is the primary: at start it asks the Sentinels and becomes the replica of the
 * primary they name. Only when none answers does `redis` start as the primary and `redis-replica`
 * as its replica. (A fixed `--replicaof redis` made a restarted primary the replica of its own
 * replica: no primary for 26 s in the compose smoke test.) Each announces its service name, so
 * what the Sentinels know stays valid when a container restarts with another address.
 */
export function dataNodeScript (me: 'redis' | 'redis-replica'): string[] {
  return [
    'set -eu',
    ...askSentinels(),
    '[ -z "$$MASTER" ] && MASTER=redis',
    `ARGS="--appendonly yes --appendfsync always --repl-diskless-sync-delay 0 --replica-announce-ip ${me}"`,
    `[ "$$MASTER" = ${me} ] && exec redis-server $$ARGS`,
    'exec redis-server $$ARGS --replicaof "$$MASTER" 6379'
  ]
}

/**
 * A Sentinel: it asks its peers for the current primary before it falls back to `redis`, so a
 * restarted Sentinel never monitors a demoted primary, and writes a fresh config at every start
 * (Sentinel rewrites its config file).
 */
export function sentinelScript (me: string): string[] {
  return [
    'set -eu',
    ...askSentinels(me),
    '[ -z "$$MASTER" ] && MASTER=redis',
    'cat > /tmp/sentinel.conf <<EOF',
    'port 26379',
    'sentinel resolve-hostnames yes',
    'sentinel announce-hostnames yes',
    `sentinel announce-ip ${me}`,
    'sentinel monitor nines $$MASTER 6379 2',
    'sentinel down-after-milliseconds nines 2000',
    'sentinel failover-timeout nines 10000',
    'sentinel parallel-syncs nines 1',
    'EOF',
    'exec redis-sentinel /tmp/sentinel.conf'
  ]
}

/** The Sentinel profile's REDIS_URL: docs/redis-ha.md. */
export const composeSentinelUrl = `redis+sentinel://${sentinels.map((s) => `${s}:26379`).join(',')}/nines`
// NINES_REDIS_URL switches every process to the Sentinel profile's primary (see sentinelServices)
// eslint-disable-next-line no-template-curly-in-string -- compose interpolation, not a JS template
const common = { REDIS_URL: '${NINES_REDIS_URL:-redis://redis:6379}', HOST: '0.0.0.0', ADVERTISE_HOST: 'auto', LOG_LEVEL: 'info' }

/**
 * `--profile sentinel`: a replica of `redis` and three Sentinels (quorum 2) watching the primary
 * as `nines`. Started with NINES_REDIS_URL set to `composeSentinelUrl` (deploy/compose/sentinel.env
 * sets both), every process finds the primary through the Sentinels and follows a failover
 * (docs/redis-ha.md).
 */
function sentinelServices (): string[] {
  const lines = [
    '  redis-replica:',
    '    image: redis:7-alpine',
    '    user: redis',
    ...shellCommand(dataNodeScript('redis-replica')),
    '    profiles: ["sentinel"]',
    '    volumes:',
    '      - redis-replica-data:/data',
    '    depends_on:',
    '      redis:',
    '        condition: service_healthy',
    ...redisHealthcheck(),
    ''
  ]
  for (const name of sentinels) {
    lines.push(
      `  ${name}:`,
      '    image: redis:7-alpine',
      '    user: redis',
      ...shellCommand(sentinelScript(name)),
      '    profiles: ["sentinel"]',
      '    depends_on:',
      '      redis:',
      '        condition: service_healthy',
      ...redisHealthcheck(26379),
      ''
    )
  }
  return lines
}

/**
 * The docker-compose.yml for a topology: Redis with a healthcheck, the gateway published on 8080,
 * interchangeable instances as one service with replicas, and instances with an identity of their
 * own (replicas, pair members) as one service each, with a named volume for their data.
 */
export function renderCompose (t: Topology): string {
  const lines: string[] = [header, 'services:',
    '  redis:',
    '    image: redis:7-alpine',
    // the image's own user, as its entrypoint would choose for a plain redis-server command
    '    user: redis',
    ...shellCommand(dataNodeScript('redis')),
    '    volumes:',
    '      - redis-data:/data',
    ...redisHealthcheck(undefined, redisHealthcheckTiming),
    '',
    ...sentinelServices(),
    '  gateway:',
    '    build: .',
    '    image: nines:latest',
    '    command: ["node", "dist/gateway/src/server.js"]',
    ...environment({ ...common, PORT: String(t.gateway.port) }),
    '    ports:',
    `      - "127.0.0.1:${t.gateway.port}:${t.gateway.port}"`,
    '    depends_on:',
    '      redis:',
    '        condition: service_healthy',
    ...healthcheck(t.gateway.port),
    '    restart: unless-stopped',
    '']
  const volumes = ['redis-data', 'redis-replica-data']
  for (const [service, spec] of Object.entries(t.services)) {
    const command = `    command: ["node", "${builtEntry(spec)}"]`
    const body = (env: Record<string, string>, volume?: string): string[] => [
      '    image: nines:latest',
      command,
      ...environment({ ...common, PORT: String(containerPort), ...spec.env, ...env }),
      // data directories in the topology are relative to the working directory, /app
      ...(volume !== undefined ? ['    volumes:', `      - ${volume}:/app/data`] : []),
      '    depends_on:',
      '      redis:',
      '        condition: service_healthy',
      '      gateway:',
      '        condition: service_started',
      ...healthcheck(containerPort),
      '    restart: unless-stopped',
      ''
    ]
    if (typeof spec.instances === 'number') {
      lines.push(`  ${service}:`, ...body({}).slice(0, -1), '    deploy:', `      replicas: ${spec.instances}`, '')
    } else {
      for (const instance of instanceSpecs(service, spec)) {
        const volume = `${instance.id}-data`
        volumes.push(volume)
        lines.push(`  ${instance.id}:`, ...body({ INSTANCE_ID: instance.id, ...instance.env }, volume))
      }
    }
  }
  lines.push('volumes:', ...volumes.map((v) => `  ${v}: {}`), '')
  return lines.join('\n')
}

/**
 * deploy/compose/sentinel.env, the compose counterpart of `npm start -- --redis sentinel`: one
 * `--env-file` turns on the profile and points every process at the Sentinels.
 */
export function renderSentinelEnv (): string {
  return `# Generated by \`npm run compose\`. \`docker compose --env-file deploy/compose/sentinel.env up --build\`
# is the compose counterpart of \`npm start -- --redis sentinel\`: a Redis primary, a replica and three
# Sentinels (the \`sentinel\` profile), and every process finds the primary through the Sentinels.
COMPOSE_PROFILES=sentinel
NINES_REDIS_URL=${composeSentinelUrl}
`
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const root = resolve(import.meta.dirname, '../..')
  for (const [file, text] of [['docker-compose.yml', renderCompose(topology)], ['deploy/compose/sentinel.env', renderSentinelEnv()]] as const) {
    writeFileSync(resolve(root, file), text)
    process.stdout.write(`wrote ${file}\n`)
  }
}
