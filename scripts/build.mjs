#!/usr/bin/env node
// Builds the package into dist/: first proves the portable folders compile without Node types,
// then emits JavaScript and declarations for everything, and marks the CLI entry executable.
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, rmSync } from 'node:fs'

function run(args) {
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const tsc = 'node_modules/typescript/bin/tsc'
rmSync('dist', { recursive: true, force: true })
run([tsc, '-p', 'tsconfig.portable.json'])
run([tsc, '-p', 'tsconfig.build.json'])
if (existsSync('dist/cli/main.js')) chmodSync('dist/cli/main.js', 0o755)
console.log('build: dist/ written')
