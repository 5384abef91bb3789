/**
 * What the compose smoke test reads from Docker: the project's containers (through the docker
 * CLI and the labels compose puts on them, so `docker compose` and `docker-compose` alike), and
 * the CPU they and the Docker daemons use (from cgroups and /proc).
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export async function docker (args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await execFileAsync('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 })
  return stdout
}

export interface Container {
  id: string
  name: string
  /** The compose service it runs (`echo`, `kv-leader-1`, `redis` …). */
  service: string
  running: boolean
  /** The main process, as the host sees it (0 when not running). */
  pid: number
  /** `starting`, `healthy`, `unhealthy`; undefined without a healthcheck. */
  health: string | undefined
  startedAtMs: number
  restartCount: number
  ips: string[]
}

interface Inspected {
  Id: string
  Name: string
  RestartCount: number
  Config: { Labels: Record<string, string> | null }
  State: { Running: boolean, Pid: number, StartedAt: string, Health?: { Status: string } }
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> | null }
}

/** Every container of a compose project, running or not. */
export async function projectContainers (project: string): Promise<Container[]> {
  const ids = (await docker(['ps', '-aq', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`])).split('\n').filter(Boolean)
  if (ids.length === 0) return []
  const inspected = JSON.parse(await docker(['inspect', ...ids])) as Inspected[]
  return inspected.map((c) => ({
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    service: c.Config.Labels?.['com.docker.compose.service'] ?? '',
    running: c.State.Running,
    pid: c.State.Pid,
    health: c.State.Health?.Status,
    startedAtMs: Date.parse(c.State.StartedAt),
    restartCount: c.RestartCount,
    ips: Object.values(c.NetworkSettings.Networks ?? {}).map((n) => n.IPAddress).filter((ip) => ip !== '')
  }))
}

/** CPU time a container has used, in ms, from its cgroup (v1 or v2, cgroupfs or systemd driver). */
export function containerCpuMs (id: string): number | undefined {
  const v1 = [`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, `/sys/fs/cgroup/cpuacct/system.slice/docker-${id}.scope/cpuacct.usage`]
  for (const file of v1) if (existsSync(file)) return Number(readFileSync(file, 'utf8')) / 1e6
  const v2 = [`/sys/fs/cgroup/docker/${id}/cpu.stat`, `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`]
  for (const file of v2) {
    if (!existsSync(file)) continue
    const usage = /^usage_usec (\d+)$/m.exec(readFileSync(file, 'utf8'))
    if (usage !== null) return Number(usage[1]) / 1e3
  }
  return undefined
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat times: 100 on every mainstream architecture. */
const ticksPerSecond = 100

/**
 * CPU time used by the Docker daemons (dockerd, containerd, every containerd-shim) and the
 * children they waited for (runc, which sets up each healthcheck's exec), in ms.
 */
export function daemonsCpuMs (): number {
  let ticks = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // gone meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    if (name !== 'dockerd' && name !== 'containerd' && !name.startsWith('containerd-shim')) continue
    // fields after the name: state is field 3, utime/stime/cutime/cstime are fields 14–17
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
  }
  return ticks * 1000 / ticksPerSecond
}
