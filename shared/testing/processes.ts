import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

/** Every child a test started, so a failed test still leaves none behind. */
const live = new Set<ChildProcess>()

export function track (child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
}

/** Kills (SIGKILL, after SIGCONT in case it was frozen) every child still alive. */
export function killAll (): void {
  for (const child of live) {
    try {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
    } catch {}
  }
  live.clear()
}

process.once('exit', killAll)

/** Whether a process with this pid exists (signal 0 checks, sends nothing). */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export interface SpawnedNode {
  child: ChildProcess
  pid: number
  /** Every stdout/stderr line so far, for assertions and for debugging a failure. */
  lines: string[]
  /** Resolves with the first JSON log line that `predicate` accepts; rejects if the process exits first. */
  waitForLog: (predicate: (entry: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>
  signal: (sig: NodeJS.Signals) => void
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop: (graceMs?: number) => Promise<void>
  exited: Promise<number | null>
}

/**
 * Starts `node <script>` with extra env, collecting its JSON log lines; `echoStderr` also shows
 * its stderr (a crash's stack) on this process's stderr, as a benchmark wants.
 */
export function spawnNode (script: string, env: Record<string, string>, args: string[] = [], { echoStderr = false } = {}): SpawnedNode {
  const child = spawn(process.execPath, [script, ...args], {
    // NINES_PARENT_PID: a service exits by itself if this test process is killed before its cleanup runs
    env: { ...process.env, LOG_LEVEL: 'info', NINES_PARENT_PID: String(process.pid), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  track(child)
  const lines: string[] = []
  const waiters: Array<{ predicate: (e: Record<string, unknown>) => boolean, resolve: (e: Record<string, unknown>) => void }> = []
  const onLine = (line: string): void => {
    lines.push(line)
    if (lines.length > 5_000) lines.splice(0, 1_000)
    if (waiters.length === 0 || !line.startsWith('{')) return
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line) as Record<string, unknown>
    } catch {
      return
    }
    for (const w of [...waiters]) {
      if (w.predicate(entry)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(entry)
      }
    }
  }
  createInterface({ input: child.stdout! }).on('line', onLine)
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (echoStderr) process.stderr.write(line + '\n')
    onLine(line)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    child,
    pid: child.pid!,
    lines,
    exited,
    waitForLog: async (predicate, timeoutMs = 15_000) => await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a log line from ${script}; last lines:\n${lines.slice(-20).join('\n')}`)), timeoutMs)
      const waiter = { predicate, resolve: (e: Record<string, unknown>) => { clearTimeout(timer); resolve(e) } }
      waiters.push(waiter)
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`${script} exited (${String(code)}) before the awaited log line:\n${lines.slice(-20).join('\n')}`)) })
    }),
    signal: (sig) => { try { child.kill(sig) } catch {} },
    stop: async (graceMs = 5_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await once(child, 'exit').catch(() => {})
      clearTimeout(timer)
    }
  }
}

export interface RunningProcess extends SpawnedNode {
  /** The URL the process logged in its ready line. */
  url: string
}

/**
 * Starts `node <script>` and resolves once it logs `readyMsg` (a service's "service ready", the
 * gateway's "gateway ready"), with the URL that line gives; rejects with its last lines if it
 * exits or stays silent for `timeoutMs`.
 */
export async function spawnReady (script: string, env: Record<string, string>, { readyMsg = 'service ready', timeoutMs = 20_000, args = [], echoStderr = false }: { readyMsg?: string, timeoutMs?: number, args?: string[], echoStderr?: boolean } = {}): Promise<RunningProcess> {
  const proc = spawnNode(script, env, args, { echoStderr })
  const ready = await proc.waitForLog((e) => e.msg === readyMsg, timeoutMs)
  return { ...proc, url: String(ready.url) }
}
