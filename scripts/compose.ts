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
 * costs ~40 ms of CPU in dockerd, containerd and runc whatever the command (measured on a 2-core
 * machine): with 20 containers, a 10 s interval is ~8 % of one core. Containers start together on
 * two cores, so the start period is long enough for the slowest to boot; the timeout is generous
 * because a loaded machine can stall a container for seconds without anything being wrong.
 */
export const healthcheckTiming = { interval: '10s', timeout: '5s', retries: 3, startPeriod: '60s' } as const
/** Redis is what every container waits for (`service_healthy`): checked more often until healthy. */
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
function redisHealthcheck (port?: number): string[] {
  return [...healthcheckBlock(redisHealthcheckTest(port), redisHealthcheckTiming), '    restart: unless-stopped']
}

function healthcheck (port: number): string[] {
  return healthcheckBlock(httpHealthcheckTest(port), healthcheckTiming)
}

function environment (env: Record<string, string>): string[] {
  return ['    environment:', ...Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)]
}

/** The Sentinel profile's REDIS_URL: docs/redis-ha.md. */
export const composeSentinelUrl = 'redis+sentinel://redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379/nines'
// NINES_REDIS_URL switches every process to the Sentinel profile's primary (see sentinelServices)
// eslint-disable-next-line no-template-curly-in-string -- compose interpolation, not a JS template
const common = { REDIS_URL: '${NINES_REDIS_URL:-redis://redis:6379}', HOST: '0.0.0.0', ADVERTISE_HOST: 'auto', LOG_LEVEL: 'info' }

/**
 * `--profile sentinel`: a replica of `redis` and three Sentinels (quorum 2) watching it as
 * `nines`. Started with NINES_REDIS_URL set to `composeSentinelUrl`, every process finds the
 * primary through the Sentinels and follows a failover (docs/redis-ha.md).
 */
function sentinelServices (): string[] {
  const sentinelConf = [
    'port 26379',
    'sentinel resolve-hostnames yes',
    'sentinel announce-hostnames yes',
    'sentinel monitor nines redis 6379 2',
    'sentinel down-after-milliseconds nines 2000',
    'sentinel failover-timeout nines 10000',
    'sentinel parallel-syncs nines 1'
  ].join('\\n')
  const lines = [
    '  redis-replica:',
    '    image: redis:7-alpine',
    '    command: ["redis-server", "--replicaof", "redis", "6379", "--appendonly", "yes", "--appendfsync", "always", "--repl-diskless-sync-delay", "0"]',
    '    profiles: ["sentinel"]',
    '    volumes:',
    '      - redis-replica-data:/data',
    '    depends_on:',
    '      redis:',
    '        condition: service_healthy',
    ...redisHealthcheck(),
    ''
  ]
  for (const n of [1, 2, 3]) {
    lines.push(
      `  redis-sentinel-${n}:`,
      '    image: redis:7-alpine',
      // Sentinel rewrites its config file: write a fresh one in the container at every start
      `    command: ["sh", "-c", "printf '${sentinelConf}\\n' > /tmp/sentinel.conf && exec redis-sentinel /tmp/sentinel.conf"]`,
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
    '    command: ["redis-server", "--appendonly", "yes", "--appendfsync", "always"]',
    '    volumes:',
    '      - redis-data:/data',
    ...redisHealthcheck(),
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
