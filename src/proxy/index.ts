/**
 * `portcullis/proxy`
 *
 * @module
 */
export {}
