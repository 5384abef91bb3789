import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { restartDelay } from './backoff.js'
import { childEnv, type ProcessPlan } from './plan.js'

export type ProcessState = 'starting' | 'running' | 'frozen' | 'restarting' | 'stopping' | 'stopped'

export interface ProcessView {
  id: string
  service: string
  pid: number | undefined
  url: string | undefined
  state: ProcessState
  restarts: number
  startedAt: number
}

interface Managed {
  plan: ProcessPlan
  child: ChildProcess | undefined
  url: string | undefined
  state: ProcessState
  restarts: number
  startedAt: number
  /** Set when we stop it on purpose, so its exit is not taken for a crash. */
  intended: boolean
  log: WriteStream
  restartTimer: NodeJS.Timeout | undefined
}

export interface SupervisorOptions {
  root: string
  logDir: string
  env: Record<string, string>
  /** Prints a short line for lifecycle events and warnings. */
  print: (id: string, text: string) => void
  /** Told of crashes, restarts and signals, for the cluster's events timeline. */
  onEvent?: (event: { type: string, service: string, instance: string, message: string }) => void
}

/**
 * Runs the cluster's processes: starts each from the built output, restarts a crashed one
 * with exponential backoff, and carries out the control API's kill -9 / SIGSTOP / SIGCONT /
 * restart / scale. Every child is told our pid so it exits if we die.
 */
export class Supervisor {
  readonly #opts: SupervisorOptions
  readonly #procs = new Map<string, Managed>()
  #shuttingDown = false

  constructor (opts: SupervisorOptions) {
    this.#opts = opts
    mkdirSync(opts.logDir, { recursive: true })
  }

  list (): ProcessView[] {
    return [...this.#procs.values()].map((m) => ({
      id: m.plan.id, service: m.plan.service, pid: m.child?.pid, url: m.url, state: m.state, restarts: m.restarts, startedAt: m.startedAt
    }))
  }

  get (id: string): ProcessView | undefined {
    return this.list().find((p) => p.id === id)
  }

  ids (): Set<string> { return new Set(this.#procs.keys()) }

  instancesOf (service: string): ProcessView[] {
    return this.list().filter((p) => p.service === service)
  }

  /** Starts a process and resolves once it says it is ready (or after `timeoutMs`). */
  async add (plan: ProcessPlan, timeoutMs = 20_000): Promise<void> {
    if (this.#procs.has(plan.id)) throw new Error(`${plan.id} is already running`)
    const managed: Managed = {
      plan,
      child: undefined,
      url: undefined,
      state: 'starting',
      restarts: 0,
      startedAt: 0,
      intended: false,
      log: createWriteStream(join(this.#opts.logDir, `${plan.id}.log`), { flags: 'a' }),
      restartTimer: undefined
    }
    this.#procs.set(plan.id, managed)
    await this.#start(managed, timeoutMs)
  }

  signal (id: string, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): ProcessView {
    const m = this.#require(id)
    if (m.child?.pid === undefined || m.child.exitCode !== null) throw new Error(`${id} is not running`)
    m.child.kill(signal)
    if (signal === 'SIGSTOP') m.state = 'frozen'
    if (signal === 'SIGCONT' && m.state === 'frozen') m.state = 'running'
    this.#opts.print(id, `${signal} sent (pid ${m.child.pid})`)
    this.#opts.onEvent?.({ type: signal === 'SIGKILL' ? 'killed' : signal === 'SIGSTOP' ? 'frozen' : 'thawed', service: m.plan.service, instance: id, message: `${id}: ${signal} from the control API` })
    return this.get(id)!
  }

  /** Graceful restart: SIGTERM, wait for exit, start again. */
  async restart (id: string): Promise<void> {
    const m = this.#require(id)
    await this.#terminate(m)
    m.intended = false
    await this.#start(m, 20_000)
  }

  /** Graceful stop and removal (scale down). */
  async remove (id: string): Promise<void> {
    const m = this.#require(id)
    await this.#terminate(m)
    m.state = 'stopped'
    m.log.end()
    this.#procs.delete(id)
  }

  async shutdown (): Promise<void> {
    this.#shuttingDown = true
    // instances first, so they deregister while the gateway still answers; the gateway last
    const all = [...this.#procs.values()]
    await Promise.all(all.filter((m) => m.plan.service !== 'gateway').map(async (m) => await this.#terminate(m)))
    await Promise.all(all.filter((m) => m.plan.service === 'gateway').map(async (m) => await this.#terminate(m)))
    for (const m of all) m.log.end()
  }

  #require (id: string): Managed {
    const m = this.#procs.get(id)
    if (m === undefined) throw new Error(`no process "${id}"`)
    return m
  }

  async #terminate (m: Managed, graceMs = 10_000): Promise<void> {
    m.intended = true
    clearTimeout(m.restartTimer)
    const child = m.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    m.state = 'stopping'
    const exited = once(child, 'exit')
    child.kill('SIGCONT') // a frozen process cannot handle SIGTERM
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }

  async #start (m: Managed, timeoutMs: number): Promise<void> {
    const { plan } = m
    const child = spawn(process.execPath, [resolve(this.#opts.root, plan.entry)], {
      cwd: this.#opts.root,
      env: childEnv(process.env, this.#opts.env, plan.env, { INSTANCE_ID: plan.id, NINES_PARENT_PID: String(process.pid) }),
      // the IPC channel carries no messages: its closing tells the child we are gone (watch-parent.ts)
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    m.child = child
    m.state = 'starting'
    m.startedAt = Date.now()
    m.intended = false
    const ready = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      const onLine = (line: string): void => {
        m.log.write(line + '\n')
        const entry = parseLine(line)
        if (entry === undefined) return
        if (entry.msg === 'service ready' || entry.msg === 'gateway ready') {
          m.url = typeof entry.url === 'string' ? entry.url : m.url
          if (m.state === 'starting') m.state = 'running'
          this.#opts.print(plan.id, `ready at ${m.url ?? '?'} (pid ${child.pid})`)
          clearTimeout(timer)
          resolve()
        } else if (typeof entry.level === 'number' && entry.level >= 40) {
          this.#opts.print(plan.id, `${entry.level >= 50 ? 'ERROR' : 'warn'} ${String(entry.msg)} ${details(entry)}`)
        }
      }
      createInterface({ input: child.stdout! }).on('line', onLine)
      createInterface({ input: child.stderr! }).on('line', (line) => { m.log.write(line + '\n') })
      child.once('exit', () => { clearTimeout(timer); resolve() })
    })
    child.once('exit', (code, signal) => this.#onExit(m, child, code, signal))
    await ready
  }

  #onExit (m: Managed, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (m.child !== child) return
    if (m.intended || this.#shuttingDown) {
      m.state = 'stopped'
      return
    }
    const { delayMs, restarts } = restartDelay(m.restarts, Date.now() - m.startedAt)
    m.restarts = restarts
    m.state = 'restarting'
    this.#opts.print(m.plan.id, `exited (${signal ?? `code ${String(code)}`}); restarting in ${delayMs} ms`)
    this.#opts.onEvent?.({ type: 'restarted', service: m.plan.service, instance: m.plan.id, message: `${m.plan.id} exited (${signal ?? `code ${String(code)}`}); restart in ${delayMs} ms` })
    m.restartTimer = setTimeout(() => { void this.#start(m, 20_000) }, delayMs)
  }
}

const noise = new Set(['level', 'time', 'service', 'pid', 'msg', 'hostname'])
/** The fields of a log line worth a glance, e.g. `instance=echo-2 state=unhealthy`. */
function details (entry: Record<string, unknown>): string {
  return Object.entries(entry).filter(([k]) => !noise.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
}

function parseLine (line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}
