import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/**
 * The cores this process may really use: the CPUs it may run on (affinity), bounded by a
 * cgroup CPU quota when there is one (a container started with `--cpus 2` on a 16-core host
 * sees 16 CPUs but gets the time of 2; more threads than that only add switching).
 */
export function coresAvailable (read: (path: string) => string | undefined = readOptional): number {
  const cpus = availableParallelism()
  const quota = cgroupQuota(read('/sys/fs/cgroup/cpu.max'), read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'))
  return quota === undefined ? cpus : Math.max(1, Math.min(cpus, Math.ceil(quota)))
}

/** CPUs granted by a cgroup v2 `cpu.max` (`"200000 100000"`) or v1 quota/period; undefined when unlimited. */
export function cgroupQuota (v2: string | undefined, v1Quota: string | undefined, v1Period: string | undefined): number | undefined {
  const ratio = (quota: number, period: number): number | undefined => quota > 0 && period > 0 ? quota / period : undefined
  if (v2 !== undefined) {
    const [quota = 'max', period = '100000'] = v2.trim().split(/\s+/)
    return quota === 'max' ? undefined : ratio(Number(quota), Number(period))
  }
  if (v1Quota !== undefined && v1Period !== undefined) return ratio(Number(v1Quota.trim()), Number(v1Period.trim()))
  return undefined
}

function readOptional (path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}
