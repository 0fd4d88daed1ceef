/**
 * What the doctor checks share: the options of the run, the findings so far, and what earlier
 * steps learnt (the challenge, the metadata documents and where they were found).
 *
 * @module
 */
import type { NodeMcpAuthClientOptions } from '../../node/client/node-auth-client.js'
import type { AuthorizationServerMetadata } from '../../protocol/authorization-server-metadata.js'
import type { ProtectedResourceMetadata } from '../../protocol/protected-resource-metadata.js'
import type { BearerChallenge } from '../../protocol/www-authenticate.js'
import type { Finding } from './finding.js'

/** The `fetch` doctor sends every request with. On Node the command passes `createSafeFetch()`. */
export type DoctorFetch = (input: string, init?: RequestInit) => Promise<Response>

/**
 * The client options of `--login`: those of `connect` (browser step, Client ID Metadata Document
 * URL, loopback policy, progress). Doctor supplies the credential store (in memory: nothing is
 * kept) and the MCP transport (to see the server's answers).
 */
export type DoctorLoginOptions = Omit<NodeMcpAuthClientOptions, 'credentialStore' | 'fetch'>

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** The MCP endpoint to check, e.g. `https://mcp.example.com/mcp`. */
  mcpUrl: string
  /** Sends the requests. It decides what may be reached; doctor never widens that. */
  fetch: DoctorFetch
  /** Report `http:` on loopback as a warning rather than a failure. Default false. */
  allowHttpLoopback?: boolean
  /** The `Origin` sent for the CORS checks. Default `https://client.example`. */
  corsOrigin?: string
  /** How many of the PRM's authorization servers are checked. Default 3. */
  maxAuthorizationServers?: number
  /**
   * After the checks, log in with Portcullis's own client (authorization code flow through the
   * browser) and send an authenticated `initialize` and `tools/list`. Default: no login.
   */
  login?: DoctorLoginOptions
  /** Called when a step starts, for progress display. */
  onStep?: (title: string) => void
  /** Called with each finding as it is made. */
  onFinding?: (finding: Finding) => void
}

/** An authorization server named by the PRM, and what was found about it. */
export interface AuthorizationServerState {
  /** The issuer identifier exactly as the PRM lists it. */
  issuer: string
  /** Where the metadata was found. */
  metadataUrl?: string
  /** The metadata document, when one was found and is a JSON object (even if it failed validation). */
  metadata?: AuthorizationServerMetadata
}

/** What the steps learnt, in the order they learnt it. */
export interface DoctorState {
  /** The Bearer challenge of the unauthenticated request. */
  challenge?: BearerChallenge
  /** The status of the unauthenticated request, when it got an answer. */
  unauthenticatedStatus?: number
  /** The PRM document clients would use, and its URL. */
  prm?: { url: string; document: ProtectedResourceMetadata }
  authorizationServers: AuthorizationServerState[]
}

/** The shared context of one run. */
export interface DoctorContext {
  readonly mcpUrl: string
  readonly fetch: DoctorFetch
  readonly allowHttpLoopback: boolean
  readonly corsOrigin: string
  readonly maxAuthorizationServers: number
  readonly state: DoctorState
  readonly findings: Finding[]
  /** Records a finding. */
  report(finding: Finding): void
}

/** Creates the context of one run. */
export function createDoctorContext(options: DoctorOptions): DoctorContext {
  const findings: Finding[] = []
  return {
    mcpUrl: options.mcpUrl,
    fetch: options.fetch,
    allowHttpLoopback: options.allowHttpLoopback === true,
    corsOrigin: options.corsOrigin ?? 'https://client.example',
    maxAuthorizationServers: options.maxAuthorizationServers ?? 3,
    state: { authorizationServers: [] },
    findings,
    report(finding) {
      findings.push(finding)
      options.onFinding?.(finding)
    },
  }
}
