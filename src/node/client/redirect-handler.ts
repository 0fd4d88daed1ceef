/**
 * The Node default for getting the user to the authorization server and back: a loopback
 * receiver plus the system browser, or the URL printed when no browser can be opened.
 *
 * @see [RFC 8252 §4.1](https://www.rfc-editor.org/rfc/rfc8252#section-4.1) authorization through the external user-agent
 * @module
 */

import type { RedirectHandler, RedirectSession } from '../../client/redirect.js'
import { type BrowserOpener, openInBrowser } from '../open-in-browser.js'
import { createLoopbackReceiver, type LoopbackReceiverOptions } from './loopback-receiver.js'

/** Options of {@link createLoopbackRedirectHandler}. */
export interface LoopbackRedirectHandlerOptions extends LoopbackReceiverOptions {
  /** Replaces the system browser opener. */
  opener?: BrowserOpener
  /**
   * Called with the checked URL when no browser could be opened (headless machines). Default:
   * the URL is written to stderr. The flow keeps waiting for the callback either way.
   */
  onUrl?: (url: string) => void
}

/**
 * A redirect handler that listens on loopback for each login and opens the authorization URL in
 * the browser. The URL passes `openInBrowser`'s checks (https, or http to loopback; no shell).
 */
export function createLoopbackRedirectHandler(options: LoopbackRedirectHandlerOptions = {}): RedirectHandler {
  const { opener, onUrl, ...receiverOptions } = options
  return {
    async start(): Promise<RedirectSession> {
      const receiver = await createLoopbackReceiver(receiverOptions)
      return {
        redirectUri: receiver.redirectUri,
        async authorize(authorizationUrl, state) {
          const callback = receiver.waitForCallback(state)
          try {
            const result = await openInBrowser(authorizationUrl, opener === undefined ? {} : { opener })
            if (!result.opened) {
              if (onUrl !== undefined) onUrl(result.url)
              else process.stderr.write(`Open this URL in a browser to log in:\n${result.url}\n`)
            }
          } catch (error) {
            await receiver.close()
            callback.catch(() => {})
            throw error
          }
          return callback
        },
        close: () => receiver.close(),
      }
    },
  }
}
