// Preload for the conformance CLI on Node 20: `node --import ./node20-register.mjs ...`.
import { register } from 'node:module'

register('./node20-hooks.mjs', import.meta.url)
