import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { sentinelUrl } from '../../shared/src/redis-target.js'
import { freePort } from '../../shared/testing/ports.js'
import { isAlive } from '../../shared/testing/processes.js'
import { waitForPing } from '../../shared/testing/redis-server.js'

/**
 * A highly available Redis on loopback from Debian's packages: a primary, a replica and three
 * Sentinels (quorum 2) watching them under one master name. Every process of the cluster gets
 * `redis+sentinel://127.0.0.1:<s1>,…/<name>` and finds the primary through the Sentinels.
 *
 * Startup is fast because nothing is left to discovery: each Sentinel's config names its own id,
 * the other two Sentinels and the replica, so a failover is possible from the first second.
 * A data node that dies is started again (after `restartDelayMs`) as a replica of whichever node
 * the Sentinels now call primary, and one that comes back still acting as a primary (it was
 * frozen, or restarted at once, while the Sentinels promoted its replica) is made a replica at
 * once, not at the Sentinels' next INFO round: the pair heals, writes can be confirmed on a
 * replica again, and the next failover is possible too.
 */
export interface SentinelRedisOptions {
  /** Data, configs and logs of the five processes go under this directory. */
  dir: string
  /** @default 'nines' */
  masterName?: string
  /** Sentinel's down-after-milliseconds: how long the primary may be silent before it is suspected. @default 1000 */
  downAfterMs?: number
  /** Sentinel's failover-timeout. @default 3000 */
  failoverTimeoutMs?: number
  /** AOF (everysec) on the data nodes, as the single-Redis launcher does. @default false */
  persistence?: boolean
  /** Start a dead data node again as a replica; 0 turns it off. @default 1000 */
  restartDelayMs?: number
  /** Called with every process started, e.g. so a test can kill it on failure. */
  onSpawn?: (child: ChildProcess) => void
  print?: (text: string) => void
}

export interface RedisNode {
  name: string
  port: number
  pid: () => number | undefined
  alive: () => boolean
}

export interface SentinelRedis {
  /** What REDIS_URL must be for every process. */
  url: string
  masterName: string
  nodes: readonly RedisNode[]
  sentinels: readonly RedisNode[]
  /** The primary's port as the Sentinels see it now. */
  primaryPort: () => Promise<number>
  /** kill -9 the current primary; resolves with its port. */
  killPrimary: () => Promise<number>
  /**
   * Chaos: kill -9 the current primary and start it again at once, on its own data, as a
   * primary — before the Sentinels notice, or while they promote the replica (they then demote
   * it, and whatever it accepted meanwhile is discarded). Meant for `persistence: true`: without
   * it the node comes back empty. Resolves with its port.
   */
  rejoinPrimary: () => Promise<number>
  /** Chaos: SIGSTOP the current primary for `ms`, then SIGCONT. Resolves with its port once it runs again. */
  freezePrimary: (ms: number) => Promise<number>
  /** Resolves once the Sentinels name a primary other than `oldPort`, with the new port. */
  waitForFailover: (oldPort: number, timeoutMs?: number) => Promise<number>
  /**
   * Resolves once the pair can fail over: the primary has a replica in sync, and every live
   * Sentinel sees that replica up and the other Sentinels.
   */
  waitUntilRedundant: (timeoutMs?: number) => Promise<void>
  /** pid of the current primary (for the launcher's banner and cluster.json). */
  pid: () => number | undefined
  /** Chaos: kill -9 the primary (Sentinel fails over); the dead node comes back as a replica. */
  restart: () => Promise<void>
  stop: () => Promise<void>
}

const PIDS_FILE = 'pids.json'

function hasRedisSentinel (): boolean {
  return spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' }).status === 0 ||
    spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

const sentinelInstallHint = 'the Sentinel topology needs Debian\'s redis-server and redis-sentinel: apt-get install -y redis-server redis-sentinel'

interface Proc extends RedisNode {
  child: ChildProcess | undefined
  start: (args: string[]) => Promise<void>
  kill: (signal: NodeJS.Signals) => Promise<void>
}

export async function startSentinelRedis (opts: SentinelRedisOptions): Promise<SentinelRedis> {
  const masterName = opts.masterName ?? 'nines'
  const downAfterMs = opts.downAfterMs ?? 1_000
  const failoverTimeoutMs = opts.failoverTimeoutMs ?? 3_000
  const restartDelayMs = opts.restartDelayMs ?? 1_000
  const print = opts.print ?? (() => {})
  mkdirSync(opts.dir, { recursive: true })
  reapStaleSentinelRedis(opts.dir)

  const ports = { a: await freePort(), b: await freePort(), s: [await freePort(), await freePort(), await freePort()] }
  let stopping = false

  const makeProc = (name: string, port: number, command: string): Proc => {
    const proc: Proc = {
      name,
      port,
      child: undefined,
      pid: () => proc.child?.pid,
      alive: () => proc.child !== undefined && proc.child.exitCode === null && proc.child.signalCode === null,
      start: async (args) => {
        const child = spawn(command, args, { stdio: 'ignore' })
        child.once('error', () => {})
        proc.child = child
        opts.onSpawn?.(child)
        child.once('exit', () => { if (proc.child === child) onExit(proc) })
        writePids()
        await waitForPing(port)
      },
      kill: async (signal) => {
        const child = proc.child
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
        const exited = once(child, 'exit')
        child.kill(signal)
        await exited
      }
    }
    return proc
  }

  const dataArgs = (name: string, port: number): string[] => {
    const dir = join(opts.dir, name)
    mkdirSync(dir, { recursive: true })
    return ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no', '--dir', dir,
      '--save', '', '--appendonly', opts.persistence === true ? 'yes' : 'no', '--appendfsync', 'always',
      // a replica syncs at once rather than after the default 5 s diskless delay
      '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0',
      '--logfile', join(dir, 'redis.log')]
  }

  const sentinelBin = spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' }).status === 0 ? 'redis-sentinel' : 'redis-server'
  const nodes = [makeProc('redis-a', ports.a, 'redis-server'), makeProc('redis-b', ports.b, 'redis-server')]
  /** Data nodes restarted at once by `rejoinPrimary`: not to be restarted again as replicas. */
  const rejoining = new Set<Proc>()
  const sentinels = ports.s.map((port, i) => makeProc(`sentinel-${i + 1}`, port, sentinelBin))
  const ids = sentinels.map(() => randomBytes(20).toString('hex'))

  function writePids (): void {
    const all = [...nodes, ...sentinels].map((p) => ({ name: p.name, port: p.port, pid: p.pid() }))
    writeFileSync(join(opts.dir, PIDS_FILE), JSON.stringify({ launcherPid: process.pid, processes: all }, null, 2))
  }

  const primaryPort = async (): Promise<number> => {
    let lastError: unknown
    for (const sentinel of sentinels) {
      if (!sentinel.alive()) continue
      const client = new Redis({ host: '127.0.0.1', port: sentinel.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500, commandTimeout: 500 })
      client.on('error', () => {})
      try {
        await client.connect()
        const addr = await client.call('SENTINEL', 'get-master-addr-by-name', masterName) as [string, string] | null
        if (addr !== null) return Number(addr[1])
      } catch (err) {
        lastError = err
      } finally {
        client.disconnect()
      }
    }
    throw new Error(`no Sentinel answered for "${masterName}": ${String(lastError)}`)
  }

  function onExit (proc: Proc): void {
    writePids()
    if (stopping || restartDelayMs <= 0 || !nodes.includes(proc) || rejoining.has(proc)) return
    print(`${proc.name} (port ${proc.port}) exited; starting it again as a replica in ${restartDelayMs} ms`)
    setTimeout(() => {
      if (stopping) return
      void (async () => {
        // a dead primary must not come back before the Sentinels promoted the replica: it would
        // be taken for the primary again (an empty one, without persistence)
        let primary = await primaryPort().catch(() => proc.port)
        // eslint-disable-next-line no-unmodified-loop-condition -- stop() sets it meanwhile
        while (primary === proc.port && !stopping) {
          await new Promise((resolve) => setTimeout(resolve, 200))
          primary = await primaryPort().catch(() => proc.port)
        }
        if (stopping) return
        await proc.start([...dataArgs(proc.name, proc.port), '--replicaof', '127.0.0.1', String(primary)])
        print(`${proc.name} is back as a replica of port ${primary}`)
      })().catch((err: Error) => print(`${proc.name} could not be restarted: ${err.message}`))
    }, restartDelayMs).unref()
  }

  const sentinelConf = (i: number): string => {
    const lines = [
      `port ${ports.s[i] as number}`,
      'bind 127.0.0.1',
      'protected-mode no',
      'daemonize no',
      `dir ${opts.dir}`,
      `logfile ${join(opts.dir, `sentinel-${i + 1}.log`)}`,
      `sentinel myid ${ids[i] as string}`,
      `sentinel monitor ${masterName} 127.0.0.1 ${ports.a} 2`,
      `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
      `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${masterName} 1`,
      // known from the start, so a failover needs no discovery round (INFO every 10 s)
      `sentinel known-replica ${masterName} 127.0.0.1 ${ports.b}`,
      ...sentinels.flatMap((s, j) => j === i ? [] : [`sentinel known-sentinel ${masterName} 127.0.0.1 ${s.port} ${ids[j] as string}`])
    ]
    return `${lines.join('\n')}\n`
  }

  try {
    await nodes[0]!.start(dataArgs('redis-a', ports.a))
    await nodes[1]!.start([...dataArgs('redis-b', ports.b), '--replicaof', '127.0.0.1', String(ports.a)])
    await Promise.all(sentinels.map(async (s, i) => {
      const file = join(opts.dir, `sentinel-${i + 1}.conf`)
      writeFileSync(file, sentinelConf(i)) // Sentinel rewrites it: a fresh one every start
      await s.start(sentinelBin === 'redis-sentinel' ? [file] : [file, '--sentinel'])
    }))
    await waitForReplicaInSync(ports.a)
  } catch (err) {
    stopping = true
    await Promise.all([...sentinels, ...nodes].map(async (p) => await p.kill('SIGKILL')))
    throw err
  }

  /** The primary a majority of the live Sentinels name (quorum 2 of 3), or undefined while they disagree. */
  const agreedPrimaryPort = async (): Promise<number | undefined> => {
    const votes = new Map<number, number>()
    for (const sentinel of sentinels) {
      if (!sentinel.alive()) continue
      const addr = await askNode(sentinel.port, ['SENTINEL', 'get-master-addr-by-name', masterName]).catch(() => null) as [string, string] | null
      if (addr !== null) votes.set(Number(addr[1]), (votes.get(Number(addr[1])) ?? 0) + 1)
    }
    return [...votes].find(([, n]) => n >= 2)?.[0]
  }

  /*
   * A primary frozen, or restarted at once, while the Sentinels promoted its replica comes back
   * believing it still leads. The Sentinels demote it only at their next INFO round (every 10 s),
   * and until then the new primary has no replica: no write can be confirmed (WAIT), and the
   * stale one accepts writes that its demotion will discard. Do at once what they will do.
   */
  let demoting = false
  /** Whether any live Sentinel sees the primary down or a failover under way: then hands off. */
  const unsettled = async (): Promise<boolean> => {
    for (const sentinel of sentinels) {
      if (!sentinel.alive()) continue
      const fields = await askNode(sentinel.port, ['SENTINEL', 'master', masterName]).catch(() => undefined) as string[] | undefined
      const flags = fields?.[fields.indexOf('flags') + 1] ?? 'unknown'
      if (fields === undefined || /s_down|o_down|failover_in_progress|unknown/.test(flags)) return true
    }
    return false
  }
  const demoteStalePrimaries = async (): Promise<void> => {
    const primary = await agreedPrimaryPort()
    // only once the failover is over and its primary leads: never against a promotion in progress
    if (primary === undefined || await unsettled()) return
    const leads = await askNode(primary, ['ROLE']).catch(() => undefined) as [string] | undefined
    if (leads?.[0] !== 'master') return
    for (const node of nodes) {
      if (node.port === primary || !node.alive() || stopping) continue
      const role = await askNode(node.port, ['ROLE']).catch(() => undefined) as [string] | undefined
      if (role?.[0] !== 'master') continue
      await askNode(node.port, ['REPLICAOF', '127.0.0.1', String(primary)])
      print(`${node.name} (port ${node.port}) still acted as a primary: now a replica of port ${primary}`)
    }
  }
  const watchdog = setInterval(() => {
    if (stopping || demoting) return
    demoting = true
    void demoteStalePrimaries().catch(() => {}).finally(() => { demoting = false })
  }, 500)
  watchdog.unref()

  const url = sentinelUrl(ports.s.map((port) => ({ host: '127.0.0.1', port })), masterName)
  const nodeOn = (port: number): Proc | undefined => nodes.find((n) => n.port === port)
  let current = ports.a

  const killPrimary = async (): Promise<number> => {
    const port = await primaryPort()
    await nodeOn(port)?.kill('SIGKILL')
    return port
  }
  const rejoinPrimary = async (): Promise<number> => {
    const port = await primaryPort()
    const node = nodeOn(port)
    if (node === undefined) throw new Error(`no data node on port ${port}`)
    rejoining.add(node)
    try {
      await node.kill('SIGKILL')
      await node.start(dataArgs(node.name, node.port))
    } finally {
      rejoining.delete(node)
    }
    return port
  }
  const freezePrimary = async (ms: number): Promise<number> => {
    const port = await primaryPort()
    const pid = nodeOn(port)?.pid()
    if (pid === undefined) throw new Error(`no running data node on port ${port}`)
    process.kill(pid, 'SIGSTOP')
    try {
      await new Promise((resolve) => setTimeout(resolve, ms))
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    return port
  }
  const waitForFailover = async (oldPort: number, timeoutMs = 20_000): Promise<number> => {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const port = await primaryPort().catch(() => oldPort)
      if (port !== oldPort) {
        current = port
        return port
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`the Sentinels did not promote a new primary within ${timeoutMs} ms`)
  }
  const redundant = async (): Promise<boolean> => {
    const primary = await primaryPort()
    const info = await askNode(primary, ['INFO', 'replication']) as string
    if (!/slave0:.*state=online/.test(info)) return false
    for (const sentinel of sentinels) {
      if (!sentinel.alive()) continue
      const replicas = await askNode(sentinel.port, ['SENTINEL', 'replicas', masterName]) as string[][]
      const up = replicas.some((fields) => {
        const flags = fields[fields.indexOf('flags') + 1] ?? ''
        return !/s_down|o_down|disconnected/.test(flags)
      })
      const others = await askNode(sentinel.port, ['SENTINEL', 'sentinels', masterName]) as unknown[]
      if (!up || others.length < sentinels.length - 1) return false
    }
    return true
  }
  const waitUntilRedundant = async (timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!(await redundant().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`the Redis pair did not become redundant within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    url,
    masterName,
    waitUntilRedundant,
    nodes,
    sentinels,
    primaryPort,
    killPrimary,
    rejoinPrimary,
    freezePrimary,
    waitForFailover,
    pid: () => nodeOn(current)?.pid(),
    restart: async () => { await waitForFailover(await killPrimary()) },
    stop: async () => {
      stopping = true
      clearInterval(watchdog)
      // Sentinels first, so stopping the primary does not start a failover
      await Promise.all(sentinels.map(async (s) => await s.kill('SIGTERM')))
      await Promise.all(nodes.map(async (n) => await n.kill('SIGTERM')))
      writePids()
    }
  }
}

async function askNode (port: number, command: [string, ...string[]]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500, commandTimeout: 500 })
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.call(...command)
  } finally {
    client.disconnect()
  }
}

/** Until the primary reports its replica online, a failover would have nobody to promote. */
async function waitForReplicaInSync (primaryPort: number, timeoutMs = 10_000): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port: primaryPort, retryStrategy: () => 50, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  try {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const info = await client.info('replication').catch(() => '')
      if (/slave0:.*state=online/.test(info)) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`the replica did not sync with the primary on port ${primaryPort} within ${timeoutMs} ms`)
  } finally {
    client.disconnect()
  }
}

/**
 * A launcher killed with kill -9 cannot stop its Redis processes. The next one ends those it
 * recorded, only if their launcher is gone and the pid is still a redis process on that port.
 */
function reapStaleSentinelRedis (dir: string): void {
  const file = join(dir, PIDS_FILE)
  if (!existsSync(file)) return
  try {
    const { launcherPid, processes } = JSON.parse(readFileSync(file, 'utf8')) as { launcherPid?: number, processes?: Array<{ port: number, pid?: number }> }
    if (launcherPid !== undefined && launcherPid !== process.pid && isAlive(launcherPid)) return
    for (const { pid, port } of processes ?? []) {
      if (pid === undefined) continue
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        if (cmdline.startsWith('redis-') && cmdline.includes(`:${port}`)) process.kill(pid, 'SIGKILL')
      } catch {}
    }
  } catch {}
}

/** `npm start -- --redis sentinel` (or NINES_REDIS=sentinel): the Sentinel topology under the state dir. */
export async function startLauncherSentinel (stateDir: string, print: (text: string) => void): Promise<SentinelRedis> {
  if (!hasRedisSentinel()) throw new Error(sentinelInstallHint)
  const ha = await startSentinelRedis({ dir: join(stateDir, 'redis-sentinel'), persistence: true, print })
  await ha.waitUntilRedundant()
  const [a, b] = ha.nodes
  print(`primary :${a?.port ?? '?'} (pid ${String(a?.pid())}), replica :${b?.port ?? '?'} (pid ${String(b?.pid())}), Sentinels ${ha.sentinels.map((s) => `:${s.port}`).join(' ')}; kill -9 the primary to see a failover`)
  return ha
}

/** The launcher's `--redis` choice: `single` (one redis-server, the default) or `sentinel`. */
export function redisMode (flag: string | undefined, env: string | undefined): 'single' | 'sentinel' {
  const mode = flag ?? env ?? 'single'
  if (mode !== 'single' && mode !== 'sentinel') throw new Error(`--redis (NINES_REDIS) must be single or sentinel, got "${mode}"`)
  return mode
}
