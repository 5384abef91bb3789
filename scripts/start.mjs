#!/usr/bin/env node
// `npm start` on a fresh clone: install dependencies if missing, build, then run the launcher
// (or, with --ctl, the control CLI). Plain JavaScript with no dependencies, so it runs first.
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const args = process.argv.slice(2)
const ctl = args[0] === '--ctl'

const installed = join(root, 'node_modules', '.package-lock.json')
if (!existsSync(installed) || statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs) {
  console.log('installing dependencies (npm ci)…')
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
}
if (!ctl) {
  console.log('building…')
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' })
} else if (!existsSync(join(root, 'dist', 'scripts', 'ctl.js'))) {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' })
}
process.argv = [process.argv[0], process.argv[1], ...(ctl ? args.slice(1) : args)]
await import(pathToFileURL(join(root, 'dist', 'scripts', ctl ? 'ctl.js' : join('launcher', 'main.js'))).href)
