/**
 * Exits when the process that started us is gone (even by kill -9), so a launcher that dies
 * leaves no orphan behind. Only armed when the launcher passes its pid.
 */
export function exitWithParent (parentPid: number | undefined, onOrphaned: () => void, intervalMs = 1_000): void {
  if (parentPid === undefined || !Number.isInteger(parentPid) || parentPid <= 1) return
  const timer = setInterval(() => {
    try {
      process.kill(parentPid, 0)
    } catch {
      clearInterval(timer)
      onOrphaned()
    }
  }, intervalMs)
  timer.unref()
}
