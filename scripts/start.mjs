#!/usr/bin/env node
// `npm start`: the main job from a fresh clone. Installs the npm packages and builds when needed,
// then runs `portcullis serve` with any extra arguments (`npm start -- --port 9000`).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

const sameLock = () => {
  try {
    return (
      readFileSync('package-lock.json', 'utf8') === readFileSync('node_modules/.package-lock.json', 'utf8')
    )
  } catch {
    return false
  }
}
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

if (!sameLock()) run('npm', ['ci', '--no-audit', '--no-fund'])
else if (!existsSync('dist/cli/main.js')) run(process.execPath, ['scripts/build.mjs'])
const r = spawnSync(process.execPath, ['dist/cli/main.js', 'serve', ...process.argv.slice(2)], {
  stdio: 'inherit',
})
process.exit(r.status ?? 1)
