// Module resolve hook: the conformance CLI (and only it) gets the `fs` shim with `globSync`.
const SHIM = new URL('./fs-shim.mjs', import.meta.url).href

export async function resolve(specifier, context, next) {
  if (
    (specifier === 'fs' || specifier === 'node:fs') &&
    context.parentURL?.includes('/@modelcontextprotocol/conformance/')
  ) {
    return { url: SHIM, shortCircuit: true }
  }
  return next(specifier, context)
}
