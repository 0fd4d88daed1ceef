/**
 * `portcullis/client`
 *
 * @module
 */
export {}
