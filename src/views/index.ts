/**
 * Public surface of the materialized-view stage for code outside the daemon (bench/views.ts): the
 * manager (lifecycle, refresh, status, query helper, drop) and definitions from the API.
 */
export { ViewManager } from './manager.ts'
export { definitionFromRequest } from './definition.ts'
