#!/usr/bin/env node
// Layering check: keeps the dependency arrows of ARCHITECTURE.md true.
//
//   protocol <- client, resource-server, authorization-server
//   client, authorization-server <- proxy
//   storage is used by authorization-server and proxy
//   node, bridge, cli sit on top (Node-only)
//
// Portable folders must not import Node built-ins, Node-only packages or Node-only folders.
// The client never imports server code.
//
// Usage: node scripts/check-layering.mjs [--root DIR] [--json]
// Exit code 1 when any rule is broken; each violation is printed as file:line: message.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import ts from 'typescript'

const args = process.argv.slice(2)
const rootIndex = args.indexOf('--root')
const root = path.resolve(rootIndex >= 0 ? args[rootIndex + 1] : process.cwd())
const asJson = args.includes('--json')
const src = path.join(root, 'src')

/** Folders (relative to src/) and which other src folders each may import. */
const ALLOWED = {
  protocol: [],
  client: ['protocol'],
  'resource-server': ['protocol'],
  'authorization-server': ['protocol', 'storage'],
  proxy: ['protocol', 'client', 'authorization-server', 'storage'],
  storage: ['protocol'],
  'storage/sql': ['protocol', 'storage'],
  node: ['protocol', 'client', 'resource-server', 'authorization-server', 'proxy', 'storage', 'storage/sql'],
  bridge: ['protocol', 'client', 'node', 'storage'],
  cli: ['*'],
}
const PORTABLE = new Set([
  'protocol',
  'client',
  'resource-server',
  'authorization-server',
  'proxy',
  'storage',
])
/** Packages that only run on Node; portable code may not import them. */
const NODE_ONLY_PACKAGES = new Set([
  'better-sqlite3',
  'pg',
  '@hono/node-server',
  'open',
  '@napi-rs/keyring',
  'commander',
  '@clack/prompts',
  'picocolors',
  'express',
  'ipaddr.js',
  '@modelcontextprotocol/sdk',
])
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))

/** The layer a file belongs to: the longest matching folder key. */
function layerOf(file) {
  const rel = path.relative(src, file).split(path.sep)
  if (rel[0] === 'storage' && rel[1] === 'sql') return 'storage/sql'
  return rel[0] in ALLOWED ? rel[0] : undefined
}

function packageName(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) yield* walk(full)
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) yield full
  }
}

const violations = []
for (const file of walk(src)) {
  const from = layerOf(file)
  if (!from) continue
  const text = readFileSync(file, 'utf8')
  const { importedFiles } = ts.preProcessFile(text, true, true)
  const lineStarts = ts.computeLineStarts(text)
  for (const imported of importedFiles) {
    const spec = imported.fileName
    const line = ts.computeLineAndCharacterOfPosition(lineStarts, imported.pos).line + 1
    const where = `${path.relative(root, file)}:${line}`
    if (spec.startsWith('.')) {
      const target = path.resolve(path.dirname(file), spec)
      if (!target.startsWith(src + path.sep)) {
        violations.push({ where, message: `imports ${spec}, outside src/` })
        continue
      }
      const to = layerOf(target)
      if (!to || to === from) continue
      const allowed = ALLOWED[from]
      if (!allowed.includes('*') && !allowed.includes(to)) {
        violations.push({ where, message: `${from} may not import ${to} (${spec})` })
      }
      continue
    }
    if (!PORTABLE.has(from)) continue
    if (builtins.has(spec) || spec.startsWith('node:')) {
      violations.push({ where, message: `portable ${from} may not import the Node built-in ${spec}` })
    } else if (NODE_ONLY_PACKAGES.has(packageName(spec))) {
      violations.push({ where, message: `portable ${from} may not import the Node-only package ${spec}` })
    }
  }
}

if (asJson) {
  console.log(JSON.stringify({ ok: violations.length === 0, violations }, null, 2))
} else if (violations.length === 0) {
  console.log('layering: ok')
} else {
  for (const v of violations) console.error(`${v.where}: ${v.message}`)
  console.error(`layering: ${violations.length} violation(s)`)
}
process.exit(violations.length === 0 ? 0 : 1)
