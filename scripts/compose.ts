import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { builtEntry, instanceSpecs, topology, type Topology } from '../topology.js'

/** Port every instance listens on inside its container (the healthcheck needs to know it). */
export const containerPort = 3000

const header = `# Generated from topology.ts by \`npm run compose\`. Do not edit by hand:
# test/unit/compose.test.ts fails when this file drifts from the topology.
`

/** A Redis or Sentinel container's healthcheck (redis-cli ping), and its restart policy. */
function redisHealthcheck (port?: number): string[] {
  const target = port === undefined ? '' : `"-p", "${port}", `
  return [
    '    healthcheck:',
    `      test: ["CMD", "redis-cli", ${target}"ping"]`,
    '      interval: 2s',
    '      timeout: 2s',
    '      retries: 10',
    '    restart: unless-stopped'
  ]
}

function healthcheck (port: number): string[] {
  return [
    '    healthcheck:',
    `      test: ["CMD", "node", "-e", "fetch('http://127.0.0.1:${port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]`,
    '      interval: 5s',
    '      timeout: 2s',
    '      retries: 3',
    '      start_period: 5s'
  ]
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

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const target = resolve(import.meta.dirname, '../..', 'docker-compose.yml')
  writeFileSync(target, renderCompose(topology))
  process.stdout.write(`wrote ${target}\n`)
}
