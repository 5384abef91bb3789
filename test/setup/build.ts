import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'

/** Integration tests spawn the built services: compile once (incrementally) before they run. */
export default function setup (): void {
  const root = resolve(import.meta.dirname, '../..')
  execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', resolve(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root })
}
