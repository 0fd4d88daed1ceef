/**
 * Audit events of the authorization server. Each is plain data with no secret in it: no token, no
 * code, no password, no client secret, only identifiers.
 *
 * @module
 */

interface EventBase {
  /** Milliseconds since the epoch. */
  at: number
}

/** A client registered (dynamically, by an administrator) or a metadata document fetched. */
export interface ClientRegisteredEvent extends EventBase {
  type: 'client.registered'
  client_id: string
  kind: 'static' | 'dynamic' | 'cimd'
  address?: string
}

/** A client was refused: unknown, failed authentication, rate-limited, or bad metadata. */
export interface ClientRejectedEvent extends EventBase {
  type: 'client.rejected'
  client_id?: string
  endpoint: 'authorize' | 'token' | 'register' | 'revoke' | 'introspect'
  reason: string
  address?: string
}

/** A user logged in (or failed to) on the login page. */
export interface LoginEvent extends EventBase {
  type: 'login.succeeded' | 'login.failed'
  subject?: string
  client_id: string
}

/** A user approved or denied a client's request on the consent page (or it was remembered). */
export interface ConsentEvent extends EventBase {
  type: 'consent.granted' | 'consent.denied'
  subject: string
  client_id: string
  resource: string
  scopes: string[]
  remembered?: boolean
}

/** Tokens were issued. */
export interface TokenIssuedEvent extends EventBase {
  type: 'token.issued'
  grant_type: string
  client_id: string
  subject: string
  grant_id: string
  resource: string
  scopes: string[]
  /** The access token's `jti` (an identifier, not the token). */
  jti: string
}

/** A rotated refresh token came back after the grace window; its grant was revoked. */
export interface RefreshReuseEvent extends EventBase {
  type: 'refresh.reuse_detected'
  client_id: string
  grant_id: string
}

/** A grant and everything issued under it were revoked. */
export interface GrantRevokedEvent extends EventBase {
  type: 'grant.revoked'
  grant_id: string
  client_id?: string
  reason: 'revocation' | 'code_replay' | 'refresh_reuse' | 'admin'
}

/** An access token was revoked on its own. */
export interface TokenRevokedEvent extends EventBase {
  type: 'token.revoked'
  client_id: string
  jti: string
}

/** Every audit event. */
export type AuditEvent =
  | ClientRegisteredEvent
  | ClientRejectedEvent
  | LoginEvent
  | ConsentEvent
  | TokenIssuedEvent
  | RefreshReuseEvent
  | GrantRevokedEvent
  | TokenRevokedEvent

/** The default audit hook: one JSON line per event on `console.log`. */
export function consoleAudit(event: AuditEvent): void {
  console.log(JSON.stringify({ audit: 'portcullis', ...event }))
}

/** Calls the hook without ever letting it fail the request. */
export function createAuditEmitter(
  hook: (event: AuditEvent) => void | Promise<void>,
): (event: AuditEvent) => void {
  return (event) => {
    try {
      const result = hook(event)
      if (result !== undefined && typeof (result as Promise<void>).catch === 'function') {
        ;(result as Promise<void>).catch(() => undefined)
      }
    } catch {
      // An audit sink failure must not change the protocol outcome.
    }
  }
}
