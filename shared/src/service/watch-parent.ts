/**
 * Exits when the process that started us is gone (even by kill -9), so a launcher that dies
 * leaves no orphan behind. Only armed when the launcher passes its pid. The launcher also opens
 * an IPC channel to each child: the channel closing is the event, with nothing to poll. A parent
 * without one (tests, benchmarks) is checked for every `intervalMs`.
 */
export function exitWithParent (parentPid: number | undefined, onOrphaned: () => void, intervalMs = 1_000): void {
  if (parentPid === undefined || !Number.isInteger(parentPid) || parentPid <= 1) return
  if (process.channel !== undefined) {
    process.channel.unref() // the channel must not keep the process alive by itself
    process.once('disconnect', onOrphaned)
    return
  }
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
