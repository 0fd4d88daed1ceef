#!/usr/bin/env node
// Proves `npm pack` ships only what a user needs: package.json, README, LICENSE and the built
// dist/ files, and that every subpath export and the bin point at a file inside the package.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const [pack] = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }),
)
const files = new Set(pack.files.map((f) => f.path))
const problems = []
for (const file of files) {
  const ok =
    ['package.json', 'README.md', 'LICENSE'].includes(file) || /^dist\/.+\.(js|d\.ts|js\.map)$/.test(file)
  if (!ok) problems.push(`unexpected file in package: ${file}`)
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const targets = [...Object.values(pkg.bin ?? {})]
for (const entry of Object.values(pkg.exports)) {
  if (typeof entry === 'string') targets.push(entry)
  else targets.push(...Object.values(entry))
}
for (const target of targets) {
  const file = target.replace(/^\.\//, '')
  if (file !== 'package.json' && !files.has(file))
    problems.push(`export target missing from package: ${target}`)
}
if (problems.length) {
  for (const p of problems) console.error(p)
  process.exit(1)
}
console.log(
  `package contents: ok (${files.size} files, ${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked)`,
)
