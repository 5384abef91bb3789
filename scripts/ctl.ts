import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { request } from 'undici'
import { controlAuthHeaders, readControlToken } from './launcher/control-auth.js'

/** `npm run ctl -- <command>`: a small CLI over the launcher's control API. */
const usage = `usage: npm run ctl -- <command>
  list                      instances with pid, url, state, restarts
  kill <id>                 kill -9 (the launcher restarts it with backoff)
  stop <id> | cont <id>     freeze (SIGSTOP) / thaw (SIGCONT)
  restart <id>              graceful restart
  scale <service> <n>       run n instances of a stateless service
  redis-restart             kill -9 the launcher's Redis and start it again`

/** The launcher's state dir: where it wrote cluster.json and the control token. */
const stateDir = resolve(process.env.NINES_STATE_DIR ?? join(resolve(import.meta.dirname, '../..'), '.nines'))

function controlUrl (): string {
  if (process.env.NINES_CONTROL_URL !== undefined) return process.env.NINES_CONTROL_URL
  const file = join(stateDir, 'cluster.json')
  if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { controlUrl: string }).controlUrl
  return 'http://127.0.0.1:8079'
}

async function call (method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const token = process.env.NINES_CONTROL_TOKEN ?? readControlToken(stateDir)
  const headers = { ...controlAuthHeaders(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }
  const res = await request(controlUrl() + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const data = await res.body.json() as { message?: string }
  if (res.statusCode >= 400) throw new Error(data.message ?? `HTTP ${res.statusCode}`)
  return data
}

const [command, a, b] = process.argv.slice(2)
try {
  if (command === 'list') {
    const { instances } = await call('GET', '/instances') as { instances: Array<Record<string, unknown>> }
    for (const p of instances) process.stdout.write(`${String(p.id).padEnd(14)} ${String(p.service).padEnd(10)} ${String(p.state).padEnd(10)} pid ${String(p.pid ?? '-').padEnd(8)} restarts ${String(p.restarts).padEnd(3)} ${String(p.url ?? '')}\n`)
  } else if (['kill', 'stop', 'cont', 'restart'].includes(command ?? '') && a !== undefined) {
    process.stdout.write(`${JSON.stringify(await call('POST', `/instances/${encodeURIComponent(a)}/${command}`))}\n`)
  } else if (command === 'scale' && a !== undefined && b !== undefined) {
    process.stdout.write(`${JSON.stringify(await call('POST', `/services/${encodeURIComponent(a)}/scale`, { count: Number(b) }))}\n`)
  } else if (command === 'redis-restart') {
    process.stdout.write(`${JSON.stringify(await call('POST', '/redis/restart'))}\n`)
  } else {
    process.stdout.write(`${usage}\n`)
    process.exitCode = command === undefined || command === 'help' ? 0 : 2
  }
} catch (err) {
  process.stderr.write(`ctl: ${(err as Error).message} (control API at ${controlUrl()}; is the cluster running? npm start)\n`)
  process.exitCode = 1
}
