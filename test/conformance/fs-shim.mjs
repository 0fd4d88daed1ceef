// Node 20 shim for @modelcontextprotocol/conformance >= 0.1.14: its bundle imports `globSync`
// from `fs` (Node >= 22). Only `tier-check` uses it, with the pattern `**/checks.json`.
import fs from 'node:fs'
import path from 'node:path'

export * from 'node:fs'
export default fs

export function globSync(pattern, opts = {}) {
  const cwd = opts.cwd ?? process.cwd()
  const base = pattern.replace(/^\*\*\//, '')
  const out = []
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(cwd, dir), { withFileTypes: true })) {
      const rel = dir ? path.join(dir, entry.name) : entry.name
      if (entry.isDirectory()) walk(rel)
      else if (entry.name === base) out.push(rel)
    }
  }
  walk('')
  return out
}
