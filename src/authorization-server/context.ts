/**
 * The resolved configuration and shared services every endpoint receives. Internal.
 *
 * @internal
 * @module
 */
import type { ClientMetadata, TokenEndpointAuthMethod } from '../protocol/client-metadata.js'
import type { ClientRecord, Store } from '../storage/types.js'
import type { AuditEvent } from './audit.js'
import type { Csrf } from './csrf.js'
import type { Sha256 } from './digest.js'
import type { KeyManager } from './keys.js'
import type {
  CimdOptions,
  IdJagIssuerOptions,
  LoginOptions,
  RegistrationOptions,
  ResolvedLifetimes,
  ResolvedResource,
} from './options.js'
import type { SessionCookies } from './session.js'
import type { JwtSigner, RandomToken } from './tokens.js'

/** A client as the endpoints see it, whatever its origin. */
export interface Client {
  client_id: string
  kind: 'static' | 'dynamic' | 'cimd'
  metadata: ClientMetadata
  /** SHA-256 (base64url) of the secret, for `client_secret_basic` / `client_secret_post`. */
  secretHash?: string
  authMethod: TokenEndpointAuthMethod
  grantTypes: readonly string[]
  /** The store record, when the client lives in the store (for idle-expiry touches). */
  record?: ClientRecord
}

/** Absolute URLs and router paths of the endpoints. */
export interface Endpoints {
  authorization: string
  token: string
  registration: string
  revocation: string
  introspection: string
  jwks: string
  login: string
  consent: string
}

/** Everything an endpoint needs. */
export interface ServerContext {
  issuer: string
  /** The issuer's path without a trailing `/` (`''` for a root issuer); prefixes every route. */
  basePath: string
  endpoints: Endpoints
  /** Pathnames of {@link endpoints}, for routing. */
  paths: Endpoints
  store: Store
  now(): number
  lifetimes: ResolvedLifetimes
  resources: ResolvedResource[]
  defaultResource: ResolvedResource | undefined
  login: LoginOptions
  registration: RegistrationOptions
  cimd: (CimdOptions & { resolve(url: string): Promise<Client> }) | undefined
  rememberConsent: boolean
  audit(event: AuditEvent): void
  keys: KeyManager
  csrf: Csrf
  session: SessionCookies
  /** Cookies get `Secure` and the `__Host-` prefix when the issuer is https. */
  secure: boolean
  fetch: ((input: string, init?: RequestInit) => Promise<Response>) | undefined
  idJagIssuers: readonly IdJagIssuerOptions[]
  /** SHA-256 (base64url) of secrets, as stored. */
  sha256: Sha256
  /** Signs access tokens. */
  signJwt: JwtSigner
  /** Random tokens for the token endpoint's secrets and ids. */
  randomToken: RandomToken
  clientAddress(request: Request): string
  findClient(clientId: string): Promise<Client | undefined>
}
