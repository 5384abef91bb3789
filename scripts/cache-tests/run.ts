/**
 * Runs the public HTTP cache conformance suite (cache-tests, https://cache-tests.fyi) against
 * the gateway's cache, the way its published results for nginx, Varnish, ATS… were made: the
 * suite's origin server behind the cache, its client in front. Here the origin is registered
 * in a private Redis as the (cacheable) `compute` service and a real gateway sits in between.
 *
 *   npm run cache-tests                          # the suite from npm (http-cache-tests), scored
 *   CACHE_TESTS_DIR=~/src/cache-tests npm run cache-tests   # a checkout of the newest suite
 *   CACHE_TESTS_ID=freshness-max-age npm run cache-tests    # one test, its exchanges and the gateway's warnings
 *
 * Both layouts work: the npm release's (cli.mjs, server/ at the top) and the newer one's
 * (test-engine/cli.mjs, test-engine/server/, tests/, results/ beside them).
 *
 * Third-party code is installed into .nines/cache-tests (never committed) and only run here.
 * Prints the score (passes, MUST failures) beside the published results the suite ships.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRedis } from '../../shared/src/redis.js'
import { Registrar } from '../../shared/src/registry/registrar.js'
import { projectRoot, startGateway } from '../lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis } from '../../shared/testing/redis-server.js'
import { score, type RawResult, type Suite } from './summary.js'

const npmVersion = process.env.CACHE_TESTS_VERSION ?? '0.4.5'
const onlyId = process.env.CACHE_TESTS_ID ?? ''

type Handler = (segments: string[], req: IncomingMessage, res: ServerResponse) => void

async function main (): Promise<void> {
  const suiteDir = process.env.CACHE_TESTS_DIR ?? installFromNpm()
  const suitePackage = resolve(suiteDir, 'package.json')
  const suiteName = existsSync(suitePackage) ? (JSON.parse(readFileSync(suitePackage, 'utf8')) as { name?: string, version?: string }) : {}
  const engine = existsSync(resolve(suiteDir, 'test-engine')) ? resolve(suiteDir, 'test-engine') : suiteDir
  const handlers: Record<string, Handler> = {}
  for (const name of ['config', 'test', 'state']) {
    handlers[name] = (await import(pathToFileURL(resolve(engine, 'server', `handle-${name}.mjs`)).href) as { default: Handler }).default
  }
  // the suite's origin, plus the /healthz the gateway's health checks need
  const origin = createServer((req, res) => {
    const segments = new URL(req.url ?? '/', 'http://origin.invalid').pathname.split('/').slice(1)
    if (segments[0] === 'healthz') {
      res.end('ok')
      return
    }
    const handler = handlers[segments[0] ?? '']
    if (handler === undefined) res.writeHead(404).end()
    else handler(segments.slice(1), req, res)
  })
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve))
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`

  const redis = await startRedis()
  const client = createRedis(redis.url)
  const registrar = new Registrar({ redis: client, prefix: 'cache-tests', ttlMs: 2_000, heartbeatMs: 500, record: { id: 'cache-tests-origin', service: 'compute', url: originUrl, role: 'member', startedAt: Date.now(), policy: { cacheable: true, staleIfErrorS: 300 } } })
  try {
    await registrar.start()
    const gateway = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: 'cache-tests', NINES_SERVICES: 'compute' })
    await waitForRoute(`${gateway.url}/api/compute/healthz`)
    const base = `${gateway.url}/api/compute`
    console.error(`cache-tests: suite ${suiteDir} (${suiteName.name ?? '?'}@${suiteName.version ?? '?'})\ncache-tests: origin ${originUrl}, gateway ${gateway.url}, base ${base}`)
    const output = await runClient(resolve(engine, 'cli.mjs'), base)
    if (onlyId !== '') {
      console.log(output)
      // the gateway's warnings and errors for this one test (what it did with the exchanges)
      const notable = gateway.lines.filter((line) => /"level":(4|5|6)\d/.test(line))
      if (notable.length > 0) console.log(`gateway log:\n${notable.join('\n')}`)
      return
    }
    const results = JSON.parse(output) as Record<string, RawResult>
    const outDir = resolve(projectRoot, '.nines/cache-tests')
    mkdirSync(outDir, { recursive: true })
    writeFileSync(resolve(outDir, 'nines.json'), JSON.stringify(results, null, 2))
    const suites = (await import(pathToFileURL(resolve(suiteDir, 'tests', 'index.mjs')).href) as { default: Suite[] }).default
    report(suites, results, await published(suiteDir))
    console.log(`\nraw results: ${resolve(outDir, 'nines.json')}`)
  } finally {
    await registrar.stop().catch(() => {})
    client.disconnect()
    origin.close()
    killAll()
    await redis.stop()
  }
}

function installFromNpm (): string {
  const dir = resolve(projectRoot, '.nines/cache-tests')
  const pkg = resolve(dir, 'node_modules/http-cache-tests')
  if (!existsSync(resolve(pkg, 'package.json'))) {
    mkdirSync(dir, { recursive: true })
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', '--loglevel', 'error', `http-cache-tests@${npmVersion}`], { stdio: 'inherit' })
  }
  return pkg
}

async function waitForRoute (url: string): Promise<void> {
  const giveUp = Date.now() + 15_000
  while (Date.now() < giveUp) {
    const res = await fetch(url).catch(() => undefined)
    if (res?.status === 200) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the gateway did not route to the origin at ${url}`)
}

async function runClient (cli: string, base: string): Promise<string> {
  const child = spawn(process.execPath, ['--no-warnings', cli], {
    cwd: resolve(cli, '..'),
    env: { ...process.env, npm_config_base: base, npm_config_id: onlyId, npm_package_config_base: base, npm_package_config_id: onlyId },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`the suite's client exited with ${String(code)}`)
  return out
}

async function published (suiteDir: string): Promise<Array<{ name: string, results: Record<string, RawResult> }>> {
  const index = resolve(suiteDir, 'results', 'index.mjs')
  if (!existsSync(index)) return []
  const entries = (await import(pathToFileURL(index).href) as { default: Array<{ file: string, name: string, type?: string, version?: string }> }).default
  const { readFile } = await import('node:fs/promises')
  const out = []
  for (const e of entries) {
    if (e.type === 'browser') continue
    const file = resolve(suiteDir, 'results', e.file)
    // the version each published run tested, as the suite lists it: the table says what was compared
    if (existsSync(file)) out.push({ name: e.version === undefined ? e.name : `${e.name} ${e.version}`, results: JSON.parse(await readFile(file, 'utf8')) as Record<string, RawResult> })
  }
  return out
}

function report (suites: Suite[], results: Record<string, RawResult>, others: Array<{ name: string, results: Record<string, RawResult> }>): void {
  const rows = [{ name: 'nines gateway', s: score(suites, results) }, ...others.map((o) => ({ name: o.name, s: score(suites, o.results) }))]
  console.log('\n| cache | passed | MUST failures | optional failures | checks yes/no | setup / dependency failures |')
  console.log('|---|---|---|---|---|---|')
  for (const { name, s } of rows) {
    console.log(`| ${name} | ${s.passed} of ${s.scored} | ${s.mustFailures.length} | ${s.optionalFailures.length} | ${s.counts.yes}/${s.counts.no} | ${s.counts['setup-fail']} / ${s.counts['dependency-fail']} |`)
  }
  const ours = rows[0]?.s
  if (ours !== undefined) {
    console.log(`\nMUST failures: ${ours.mustFailures.join(', ') || 'none'}`)
    console.log(`optional failures: ${ours.optionalFailures.join(', ') || 'none'}`)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  killAll()
  process.exitCode = 1
})
