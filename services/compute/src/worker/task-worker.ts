import { runTask, type TaskRequest, type TaskResult } from '../core/tasks.js'

/** The Piscina worker: one task per call, on a worker thread, never on the event loop. */
export default function run (req: TaskRequest): TaskResult {
  return runTask(req)
}
