/**
 * Getting the user to the authorization server and back. The client core only knows this
 * interface; `portcullis/node` provides a loopback receiver with a browser opener, and hosts with
 * their own UI (a desktop app, a web view) implement it themselves.
 *
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3) loopback redirect
 * @module
 */

/** One authorization round trip through the user's browser. Single use. */
export interface RedirectSession {
  /** The redirect URI to register and to send in the authorization request. */
  readonly redirectUri: string
  /**
   * Sends the user to `authorizationUrl` and resolves with the parameters of the callback that
   * carries `state`. Callbacks with another or no `state` must be refused without ending the wait.
   */
  authorize(authorizationUrl: string, state: string): Promise<URLSearchParams>
  /** Releases what the session holds (a listening socket). Called once, also after a failure. */
  close(): Promise<void>
}

/** Starts redirect sessions. */
export interface RedirectHandler {
  /** Prepares one authorization round trip; the client then registers and uses its `redirectUri`. */
  start(): Promise<RedirectSession>
}
